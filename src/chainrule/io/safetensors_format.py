"""The safetensors file format, read and written with NumPy alone.

Layout (https://github.com/huggingface/safetensors): 8 bytes little-endian u64 N, then N bytes of
UTF-8 JSON ``{name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}}``, then the raw little-endian tensor bytes. Offsets are relative to
the start of the byte buffer; the tensors tile it exactly, with no gaps.

Reading validates everything before building a single array, so a damaged file is rejected whole.
The files are interchangeable with the ``safetensors`` package's (the ``io`` extra; the tests check
both directions).
"""
import json

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}
_CODES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """A file that is not valid safetensors (truncated, damaged or not safetensors at all)."""


def serialize(arrays, metadata=None):
    """The bytes of a safetensors file holding ``arrays`` (name -> ndarray) and ``metadata``."""
    header, chunks, offset = {}, [], 0
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        code = _CODES.get(arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype)
        if code is None:
            raise TypeError(f"save: tensor {name!r} has dtype {arr.dtype}, which safetensors cannot "
                            f"store")
        data = np.ascontiguousarray(arr, dtype=np.dtype(DTYPES[code])).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the reference writer pads the header to 8 bytes
    return b"".join([len(head).to_bytes(8, "little"), head] + chunks)


def deserialize(raw, where="file"):
    """``(arrays, metadata, data_buffer, tensor_entries)`` from the bytes of a safetensors file;
    raises SafetensorsError."""
    if len(raw) < 8:
        raise SafetensorsError(f"{where}: {len(raw)} bytes is too short for a safetensors file "
                               f"(truncated?)")
    n = int.from_bytes(raw[:8], "little")
    if n > MAX_HEADER or 8 + n > len(raw):
        raise SafetensorsError(f"{where}: header length {n} does not fit in the file's {len(raw)} "
                               f"bytes: the file is truncated or not a safetensors file")
    try:
        header = json.loads(bytes(raw[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError(f"{where}: the header is not valid JSON ({e}): the file is damaged")
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: the header is not a JSON object: the file is damaged")
    metadata = header.pop("__metadata__", None) or {}
    buffer = memoryview(raw)[8 + n:]
    entries = []
    for name, info in header.items():
        try:
            dtype = np.dtype(DTYPES[info["dtype"]])
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{where}: the header entry for {name!r} is malformed: {info!r}")
        if any(s < 0 for s in shape) or end - begin != int(np.prod(shape)) * dtype.itemsize:
            raise SafetensorsError(f"{where}: tensor {name!r} of shape {shape} and dtype "
                                   f"{info['dtype']} does not match its {end - begin} bytes")
        entries.append((begin, end, name, dtype, shape))
    entries.sort(key=lambda e: (e[0], e[1]))
    position = 0
    for begin, end, name, _, _ in entries:
        if begin != position:
            raise SafetensorsError(f"{where}: tensor {name!r} starts at byte {begin}, expected "
                                   f"{position}: the offsets overlap or leave a gap")
        position = end
    if position != len(buffer):
        raise SafetensorsError(f"{where}: the tensors need {position} bytes of data but the file "
                               f"has {len(buffer)}: it is truncated or has trailing bytes")
    arrays = {name: np.frombuffer(buffer[begin:end], dtype=dtype).reshape(shape).copy()
              for begin, end, name, dtype, shape in entries}
    return arrays, metadata, buffer, header
