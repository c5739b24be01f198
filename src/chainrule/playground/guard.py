"""Who may use a Playground: the checks every HTTP request and WebSocket handshake passes first.

``Guard`` is ASGI middleware, in this order (as Jupyter guards its server):

1. **Paths**: a path with a ``..`` or ``.`` segment, a backslash or a NUL byte is refused (404)
   before it reaches the static files, however it was encoded (``%2e%2e``, ``%5c``, twice
   encoded), so nothing outside ``static/`` can be read.
2. **Host** (``allowed_hosts``): served on loopback, the Playground answers only to requests
   addressed to a loopback name. A web page that points its own domain at 127.0.0.1 (DNS
   rebinding) sends its own name in ``Host`` and is refused (403).
3. **Origin**: a browser names the page that makes a request in ``Origin``; a request whose
   Origin is not the Playground's own (another site, a sandboxed frame's ``null``) is refused
   (403), so a web page elsewhere cannot drive a Playground on the user's machine. Requests
   without an Origin (curl, scripts, a typed URL) are not cross-site and pass.
4. **Token** (``token``): when set, a request needs it as ``?token=...`` (the URL printed at
   start), as the cookie that URL sets, or as ``Authorization: token ...``. The page opened
   with ``?token=`` is redirected to the same address without it (the cookie set), so a copied
   link does not carry it.
"""
import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
COOKIE_PREFIX = "chainrule-playground-token-"


def new_token():
    """A random token for a Playground served to other machines (48 hex digits)."""
    return secrets.token_hex(24)


def is_loopback(host):
    """Whether ``host`` (a name or an address, brackets allowed) is this machine only."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split(netloc, scheme="http"):
    """``(host, port)`` of ``host[:port]`` (IPv6 in brackets), lower case, the default port
    filled in; None when it does not parse."""
    try:
        parts = urlsplit(f"//{netloc.strip()}")
        port = parts.port
    except ValueError:
        return None
    if parts.hostname is None:
        return None
    return parts.hostname.lower(), port or (443 if scheme in ("https", "wss") else 80)


def unsafe_path(path):
    """Why ``path`` (percent-decoded once, as the server hands it) is refused, or None."""
    for _ in range(3):     # decode again: a twice-encoded %252e%252e must not slip through
        if "\\" in path or "\x00" in path:
            return "a backslash or NUL byte"
        if any(part in ("..", ".") for part in path.split("/")):
            return "a '.' or '..' segment"
        decoded = unquote(path)
        if decoded == path:
            return None
        path = decoded
    return "too many layers of percent-encoding"


class Guard:
    """ASGI middleware refusing what ``unsafe_path``, ``allowed_hosts``, Origin and ``token``
    rule out (module docstring). ``allowed_hosts=None`` accepts any Host; ``token=None`` needs
    none."""

    def __init__(self, app, token=None, allowed_hosts=LOOPBACK_NAMES):
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {}
        for key, value in scope.get("headers", ()):
            headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            status, text = refusal
            return await self._refuse(scope, receive, send, status, text)
        if scope["type"] == "http" and self.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            page = scope.get("path", "/") in ("/", "/index.html")
            if "token" in query and page and scope.get("method") in ("GET", "HEAD"):
                return await self._redirect_without_token(scope, send, query)
        if scope["type"] == "http":
            send = self._with_headers(send)
        return await self.app(scope, receive, send)

    def refusal(self, scope, headers):
        """``(status, reason)`` when the request is refused, else None."""
        raw = scope.get("raw_path")
        why = unsafe_path(scope.get("path", ""))
        if why is None and raw:
            why = unsafe_path(raw.decode("latin-1"))
        if why is not None:
            return 404, f"not found: the path holds {why}"
        host = headers.get("host", "")
        if self.allowed_hosts is not None:
            name = (_split(host) or ("",))[0]
            if name not in self.allowed_hosts and not is_loopback(name):
                return 403, (f"refused: this Playground serves this machine only and answers to "
                             f"localhost or 127.0.0.1, not to Host {host!r} (a guard against "
                             f"DNS rebinding); open the address it printed")
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, host, scope):
            return 403, (f"refused: a request from the page {origin!r} to this Playground "
                         f"({host}); only the Playground's own page may use it")
        if self.token is not None and not self._has_token(scope, headers):
            return 403, ("refused: this Playground needs its token; open the address with "
                         "?token=... that `chainrule playground` printed when it started")
        return None

    @staticmethod
    def _same_origin(origin, host, scope):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or not host:
            return False     # "null" (a sandboxed frame, a file) or something stranger
        ours = _split(host, scope.get("scheme", "http"))
        return ours is not None and _split(parts.netloc, parts.scheme) == ours

    def _cookie_name(self, scope):
        server = scope.get("server") or (None, None)
        return f"{COOKIE_PREFIX}{server[1] or 'default'}"

    def _has_token(self, scope, headers):
        offered = []
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if "token" in query:
            offered.append(query["token"])
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("token", "bearer") and value:
            offered.append(value.strip())
        if "cookie" in headers:
            cookie = SimpleCookie()
            try:
                cookie.load(headers["cookie"])
            except Exception:   # a malformed Cookie header offers no token
                pass
            morsel = cookie.get(self._cookie_name(scope))
            if morsel is not None:
                offered.append(morsel.value)
        expected = self.token.encode()
        return any(hmac.compare_digest(t.encode("utf-8", "replace"), expected) for t in offered)

    async def _redirect_without_token(self, scope, send, query):
        del query["token"]
        location = scope.get("root_path", "") + scope.get("path", "/")
        if query:
            location += "?" + urlencode(query)
        cookie = (f"{self._cookie_name(scope)}={self.token}; Path=/; HttpOnly; "
                  f"SameSite=Strict")
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1")),
            (b"content-length", b"0"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _with_headers(send):
        async def sender(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = dict(message, headers=headers)
            await send(message)
        return sender

    async def _refuse(self, scope, receive, send, status, text):
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the handshake with HTTP 403.
            await receive()   # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": text[:120]})
            return
        body = (text + "\n").encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff")]})
        await send({"type": "http.response.body", "body": body})
