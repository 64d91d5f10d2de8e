"""Form POSTs to one provider URL on kept-alive HTTP/1.1 connections, on asyncio's streams.

A provider's send is one small request and one small answer; aiohttp spent about 100 us of CPU
on each (its request, response and timeout objects), this about 20 (bench/conversations.py,
README Speed). It speaks only what such an API needs: POST, a Content-Length or chunked
answer, keep-alive, TLS for https. Its callers bound how many requests run at once (the
dispatcher's concurrency): a request that finds no idle connection opens one.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# An idle connection is not reused after this long: the server may be closing it (aiohttp's
# keep-alive timeout).
IDLE_SECONDS = 15.0
MAX_HEAD = 64 * 1024


# What urllib.parse.urlencode leaves as it is (a space becomes "+"); every other byte is %XX.
_UNSAFE = re.compile(rb"[^A-Za-z0-9_.~ -]")
_ESCAPES = {bytes([byte]): b"%%%02X" % byte for byte in range(256)}


def form_body(form: dict[str, str]) -> bytes:
    """The form urlencoded, byte for byte as urllib.parse.urlencode does it, at a fraction
    of its CPU (it looks each byte up; this escapes only the bytes that need it)."""
    return b"&".join(_quoted(name) + b"=" + _quoted(value) for name, value in form.items())


def _quoted(text: str) -> bytes:
    return _UNSAFE.sub(_escape, text.encode()).replace(b" ", b"+")


def _escape(match: re.Match[bytes]) -> bytes:
    return _ESCAPES[match[0]]


class HttpFailure(Exception):
    """The request could not be made or its answer not read (a network failure)."""


@dataclass(frozen=True)
class Answer:
    """A provider's answer: its status, its headers (names in lower case) and its body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self) -> bool:
        """Open, with nothing unread, and not idle so long the server may be closing it."""
        return (
            not self.writer.is_closing()
            and not self.reader.at_eof()
            and time.monotonic() - self.idle_since < IDLE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()


class LeanPoster:
    """POSTs bodies to one URL with fixed headers; connections belong to the running loop."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.host = parts.hostname
        self.tls = parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = self.port == (443 if self.tls else 80)
        host = parts.netloc.rpartition("@")[2] if not default_port else self.host
        lines = [f"POST {target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ssl: ssl.SSLContext | None = None

    async def post(self, body: bytes) -> Answer:
        """Send one request and read its answer; HttpFailure or TimeoutError if that fails."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # connections belong to one loop
            self._idle, self._loop = [], loop
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                connection = await self._connection()
                request = self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body
                connection.writer.write(request)
                answer, reusable = await _read_answer(connection.reader)
        except TimeoutError:  # (an OSError): the answer may still come; drop the connection
            if connection is not None:
                connection.close()
            raise
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as error:
            if connection is not None:
                connection.close()
            raise HttpFailure(f"{type(error).__name__}: {error}") from error
        except BaseException:  # cancelled: the answer may still come; drop the connection
            if connection is not None:
                connection.close()
            raise
        if reusable:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()
        return answer

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            connection.close()
        if self.tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self._ssl if self.tls else None, limit=MAX_HEAD
        )
        return _Connection(reader, writer)

    async def close(self) -> None:
        """Close the idle connections."""
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """The answer, and whether the connection may carry another request."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    status = rest.partition(" ")[0]
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {status_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    reusable = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif int(status) in (204, 304) or 100 <= int(status) < 200:
        body = b""
    else:  # the body runs to the end of the connection
        body, reusable = await reader.read(), False
    return Answer(int(status), headers, body), reusable


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the end
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
