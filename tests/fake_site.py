"""A real HTTP server on 127.0.0.1 that plays the map, the report pages and the archive, with
switchable faults. Standard library only; bounded in requests and time; stops by itself."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

MAX_REQUESTS = 400
MAX_SECONDS = 120.0

Handler = Callable[["Request"], None]


@dataclass
class Request:
    handler: http.server.BaseHTTPRequestHandler
    path: str
    count: int  # how many times this path was asked, this one included

    def send(self, status: int, body: bytes = b"", *, content_type: str = "text/plain",
             headers: dict[str, str] | None = None, length: int | None = None) -> None:
        self.handler.send_response(status)
        self.handler.send_header("Content-Type", content_type)
        self.handler.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.handler.send_header(name, value)
        self.handler.end_headers()
        self.handler.wfile.write(body)
        self.handler.wfile.flush()


@dataclass
class FakeSite:
    """Routes by path (query string included); an unknown path is a 404."""

    routes: dict[str, Handler] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    port: int = 0
    host: str = "127.0.0.1"  # another local address, for clients in a network namespace
    fallback: Handler | None = None  # answers the paths no route names (an archive's queries)
    max_seconds: float = MAX_SECONDS  # it stops answering after this long: a runaway loop ends

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, body: bytes, *, status: int = 200, content_type: str = "text/plain") -> None:
        self.routes[path] = lambda r: r.send(status, body, content_type=content_type)


def _handler_class(site: FakeSite, deadline: float) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            site.calls[self.path] += 1
            total = sum(site.calls.values())
            if total > MAX_REQUESTS or time.monotonic() > deadline:
                self.send_error(503, "fake site exhausted")
                return
            route = site.routes.get(self.path, site.fallback)
            if route is None:
                body = b"not found"
                self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            with suppress(TimeoutError, BrokenPipeError, ConnectionResetError):
                route(Request(self, self.path, site.calls[self.path]))

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class _QuietServer(http.server.ThreadingHTTPServer):
    """A client that hangs up early (as ringwatch does past its size cap) is no error of the
    server's: no traceback on stderr, where the tests read the CLI's own lines."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@contextmanager
def running(site: FakeSite) -> Iterator[FakeSite]:
    deadline = time.monotonic() + site.max_seconds
    server = _QuietServer((site.host, 0), _handler_class(site, deadline))
    server.daemon_threads = True
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- faults -------------------------------------------------------------------------------------


def slow(seconds: float, body: bytes) -> Handler:
    def handle(r: Request) -> None:
        time.sleep(seconds)
        r.send(200, body)
    return handle


def reset_mid_body(body: bytes) -> Handler:
    def handle(r: Request) -> None:
        h = r.handler
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 3])
        h.wfile.flush()
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        h.connection.close()
        h.close_connection = True
    return handle


def truncated(body: bytes) -> Handler:
    def handle(r: Request) -> None:
        r.send(200, body[: len(body) // 2], length=len(body), content_type="application/vnd.google-earth.kml+xml")
        r.handler.close_connection = True
    return handle


def fail_then(statuses: list[tuple[int, dict[str, str]]], body: bytes, content_type: str = "text/plain") -> Handler:
    def handle(r: Request) -> None:
        if r.count <= len(statuses):
            status, headers = statuses[r.count - 1]
            r.send(status, b"try again later", headers=headers)
        else:
            r.send(200, body, content_type=content_type)
    return handle


def redirect(location: str, status: int = 302) -> Handler:
    return lambda r: r.send(status, b"", headers={"Location": location})
