"""Shared by the GCP test servers (front, stand-in, token server): Google's error shape and a small
threaded HTTP/1.1 JSON server on the standard library. Python 3.11, no third-party imports."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The canonical status of each HTTP code, as Google's APIs put it in error.status.
STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
    501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
DOMAIN_BY_REASON = {"rateLimitExceeded": "usageLimits", "userRateLimitExceeded": "usageLimits",
                    "quotaExceeded": "usageLimits", "dailyLimitExceeded": "usageLimits"}


class APIError(Exception):
    """An error answered in Google's shape:
    {"error": {"code", "message", "errors": [{"reason", "domain", "message"}], "status"}}."""

    def __init__(self, code, reason, message, status=None, domain=None, extra=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.domain = domain or DOMAIN_BY_REASON.get(reason, "global")
        self.extra = extra or {}

    def body(self):
        item = {"message": self.message, "domain": self.domain, "reason": self.reason}
        item.update(self.extra)
        return {"error": {"code": self.code, "message": self.message, "errors": [item], "status": self.status}}


def error_body(code, reason, message, **kw):
    return APIError(code, reason, message, **kw).body()


def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class Request:
    def __init__(self, handler, method):
        self.handler = handler
        self.method = method
        parts = urlsplit(handler.path)
        self.path = parts.path
        self.raw_query = parts.query
        self.query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.query_all = parse_qs(parts.query, keep_blank_values=True)
        self.headers = handler.headers
        if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
            self.raw_body = self._read_chunked(handler.rfile)
        else:
            n = int(handler.headers.get("Content-Length") or 0)
            self.raw_body = handler.rfile.read(n) if n else b""
        self._json = None

    @staticmethod
    def _read_chunked(f):
        out = []
        while True:
            size = int(f.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while f.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(out)
            out.append(f.read(size))
            f.readline()

    def json(self):
        if self._json is None:
            if not self.raw_body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError as e:
                    raise APIError(400, "parseError", f"Invalid JSON payload received: {e}")
        return self._json


class Response:
    def __init__(self, code=200, body=None, headers=None, raw=None, content_type="application/json; charset=UTF-8"):
        self.code, self.body, self.headers, self.raw, self.content_type = code, body, dict(headers or {}), raw, content_type

    def payload(self):
        if self.raw is not None:
            return self.raw if isinstance(self.raw, bytes) else self.raw.encode()
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class Handler(BaseHTTPRequestHandler):
    """Subclasses set `app`, an object with handle(Request) -> Response."""
    protocol_version = "HTTP/1.1"
    server_version = "gcp-test-server"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms a request.
    disable_nagle_algorithm = True
    app = None

    def _do(self):
        req = None
        try:
            req = Request(self, self.command)
            resp = self.app.handle(req)
        except APIError as e:
            resp = Response(e.code, e.body())
        except Exception as e:  # a bug in the test server: say so in Google's shape, and log it
            import traceback
            traceback.print_exc()
            resp = Response(500, error_body(500, "backendError", f"test server bug: {type(e).__name__}: {e}"))
        data = resp.payload()
        self.send_response(resp.code)
        if data or resp.code not in (204, 304):
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _do

    def log_message(self, fmt, *args):
        # The request line only (never headers, so no token reaches a log).
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def serve(app, host, port, name="server"):
    handler = type(name + "Handler", (Handler,), {"app": app})
    srv = Server((host, port), handler)
    sys.stderr.write(f"{name} listening on http://{host}:{port}\n")
    sys.stderr.flush()
    return srv


def serve_forever(*servers):
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers[1:]]
    for t in threads:
        t.start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
