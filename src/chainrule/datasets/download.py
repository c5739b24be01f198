"""Fetching a dataset's files over HTTP(S) with the standard library's ``urllib``.

Each file is tried at its URLs in turn (the dataset's mirrors), hashed while it streams in and
written to a hidden temporary file beside its final name. Only a file whose digest equals the
published one is renamed into place (``os.replace``, atomic on one file system), so an interrupted
or corrupted download never leaves a file that looks complete. A progress bar shows when ``tqdm``
is installed.
"""
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request

CHUNK = 1 << 16
TIMEOUT_S = 30
# what a missing network, an unknown host, a refused connection or an HTTP error raise
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class DownloadError(OSError):
    """No URL served a file with the published checksum (the message says what to do instead)."""


class ChecksumMismatch(ValueError):
    """A downloaded file's digest differs from the published one."""


def file_digest(path, algorithm="md5"):
    """The hex digest of a file (``algorithm``: any name ``hashlib.new`` knows)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_bar(total, name):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)


def fetch(url, path, checksum, algorithm="md5", progress=True):
    """Download ``url`` to ``path`` if its ``algorithm`` digest is ``checksum``.

    Raises ``ChecksumMismatch`` (nothing written) or a network error from ``urllib``.
    """
    folder, name = os.path.split(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            size = response.headers.get("Content-Length")
            bar = _progress_bar(int(size) if size else None, name) if progress else None
            digest = hashlib.new(algorithm)
            try:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        if digest.hexdigest() != checksum:
            raise ChecksumMismatch(f"its {algorithm} is {digest.hexdigest()}, the published one is "
                                   f"{checksum}")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def download_files(dataset, wanted, folder, algorithm="md5", progress=True):
    """Fetch each ``(file name, checksum, urls)`` of ``wanted`` into ``folder``; the paths.

    A file is taken from the first of its ``urls`` that serves it with the right checksum. When
    none does, ``DownloadError`` names the files still missing and where to put them by hand.
    """
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index, (name, checksum, urls) in enumerate(wanted):
        path = os.path.join(folder, name)
        failures = []
        for url in urls:
            try:
                fetch(url, path, checksum, algorithm, progress)
                break
            except ChecksumMismatch as e:
                failures.append(f"{url}: refused, {e}")
            except NETWORK_ERRORS as e:
                failures.append(f"{url}: {getattr(e, 'reason', e)}")
        else:
            missing = ", ".join(entry[0] for entry in wanted[index:])
            raise DownloadError(f"{dataset}: could not download {name} ("
                                + "; ".join(failures) + f"). Without a network, get {missing} "
                                f"yourself (same names) and put them in {folder!r}")
        paths.append(path)
    return paths
