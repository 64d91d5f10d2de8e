"""The part every fake provider shares: an HTTP server on a loopback port, in a daemon thread."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients connect at once in benchmarks; the default backlog of 5 resets them.
    request_queue_size = 128
    # A fake that goes offline holds its port with a bound, silent socket; this lets the
    # server bind beside it when it comes back (see `hold_port`).
    allow_reuse_port = True


class LocalServer:
    """Serve `handler` on 127.0.0.1 (a free port unless one is given) until `stop`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The server root."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self._server.shutdown()
        self._server.server_close()


def free_port() -> int:
    """A loopback port nothing listens on right now (for a server started in another process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hold_port(port: int) -> socket.socket:
    """Keep `port` bound but not listening: connections are refused and no one else takes it."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", port))
    return holder


class Hangup(Exception):
    """The client went away before it sent the whole request body."""


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body; Hangup if the client closed early (a real server never acts on that)."""
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    if len(body) < length:
        handler.close_connection = True
        raise Hangup
    return body
