"""A local fake SMS provider over HTTP, and a channel that posts to it (tests and bench only).

POST /messages {"ref", "to", "text"} -> 201 {"id"}; every accepted call is recorded, duplicates
included, so a test can see a message sent twice. A share of calls can fail with 500 or 429
(never recorded), some addresses can be "blocked" (403). GET /messages/<ref> -> 200 {"id"} or
404 lets a dispatcher reconcile a message it may or may not have sent.

Both sides speak plain HTTP/1.1 with keep-alive over asyncio streams: httpx alone costs ten
times more per call than the dispatcher, which would hide what the benchmark measures.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from typing import Any

from notify.channel import Fail, OutgoingMessage, Retry, SendResult, StopContact

REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
REASONS |= {429: "Too Many Requests", 500: "Internal Server Error"}


async def read_message(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 request or response: first line, headers (lower-case), body."""
    head = await reader.readuntil(b"\r\n\r\n")
    first, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return first, headers, body


def encode(first: str, headers: dict[str, str], body: bytes) -> bytes:
    """One HTTP/1.1 message, in one write."""
    lines = [first, *(f"{name}: {value}" for name, value in headers.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class FakeProvider:
    """A provider on 127.0.0.1 that records what it accepted."""

    def __init__(self, fail_share: float = 0.0, seed: int = 7, delay: float = 0.0) -> None:
        self.fail_share = fail_share
        self.delay = delay
        self.rng = random.Random(seed)
        self.blocked: set[str] = set()
        self.accepted: list[dict[str, str]] = []
        self.by_ref: dict[str, str] = {}
        self.failures = 0
        self.lock = threading.Lock()
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeProvider:
        """Serve in a background thread."""
        self.thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        """Stop serving, closing every open connection."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                first, _, body = await read_message(reader)
                method, path, _ = first.split(" ", 2)
                if self.delay:
                    await asyncio.sleep(self.delay)
                code, answer, extra = self.handle(method, path, body)
                head = {"Content-Type": "application/json", **extra}
                writer.write(encode(f"HTTP/1.1 {code} {REASONS[code]}", head, answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, or the provider is stopping
        finally:
            writer.close()

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        """Answer one request."""
        if method == "GET":
            with self.lock:
                found = self.by_ref.get(path.rsplit("/", 1)[-1])
            if found is None:
                return 404, b'{"error": "not found"}', {}
            return 200, json.dumps({"id": found}).encode(), {}
        message = json.loads(body or b"{}")
        if not {"ref", "to", "text"} <= set(message):
            return 400, b'{"error": "ref, to and text are required"}', {}
        code, answer, extra = self.accept(message)
        return code, json.dumps(answer).encode(), extra

    def accept(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Decide one POST: fail, block or record."""
        with self.lock:
            if body["to"] in self.blocked:
                return 403, {"error": "blocked"}, {}
            if self.fail_share and self.rng.random() < self.fail_share:
                self.failures += 1
                if self.failures % 2:
                    return 500, {"error": "server error"}, {}
                return 429, {"error": "too many requests"}, {"Retry-After": "0"}
            provider_id = f"FAKE{len(self.accepted) + 1}"
            self.accepted.append({"ref": body["ref"], "to": body["to"], "text": body["text"]})
            self.by_ref[body["ref"]] = provider_id
            return 201, {"id": provider_id}, {}

    def per_address(self) -> Counter[str]:
        """How many accepted messages each address got."""
        with self.lock:
            return Counter(item["to"] for item in self.accepted)


class HttpChannel:
    """A channel that sends through the fake provider, classifying errors like a real one."""

    def __init__(self, base_url: str, name: str = "sms", connections: int = 16) -> None:
        self.name = name
        host_port = base_url.split("//", 1)[-1]
        self.host, _, port = host_port.partition(":")
        self.port = int(port or 80)
        self.connections = connections
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._open = 0
        self._free: asyncio.Condition | None = None

    @staticmethod
    def ref(message: OutgoingMessage) -> str:
        """The provider-side key of a message: its outbox id."""
        return f"outbox-{message.outbox_id}"

    async def _request(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        if self._free is None:
            self._free = asyncio.Condition()
        async with self._free:
            while not self._idle and self._open >= self.connections:
                await self._free.wait()
            if self._idle:
                reader, writer = self._idle.pop()
            else:
                self._open += 1
                try:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                except OSError:
                    self._open -= 1
                    raise
        body = json.dumps(payload).encode() if payload is not None else b""
        head = {"Host": f"{self.host}:{self.port}", "Content-Type": "application/json"}
        try:
            writer.write(encode(f"{method} {path} HTTP/1.1", head, body))
            first, headers, answer = await read_message(reader)
        except BaseException:
            writer.close()
            async with self._free:
                self._open -= 1
                self._free.notify()
            raise
        async with self._free:
            self._idle.append((reader, writer))
            self._free.notify()
        return int(first.split(" ", 2)[1]), headers, json.loads(answer or b"{}")

    async def send(self, message: OutgoingMessage) -> SendResult:
        """POST the message; 5xx/429 retry, 403 stops the contact, other 4xx fail."""
        payload = {"ref": self.ref(message), "to": message.address, "text": message.text}
        try:
            code, headers, answer = await self._request("POST", "/messages", payload)
        except ConnectionRefusedError as error:  # never reached the provider: safe to retry
            raise Retry(f"transport: {error!r}") from error
        if code == 201:
            return SendResult(str(answer["id"]))
        if code == 429:
            after = float(headers.get("retry-after", "1"))
            raise Retry("429 too many requests", retry_after=after)
        if code >= 500:
            raise Retry(f"{code} provider error")
        if code == 403:
            raise StopContact("recipient blocked us")
        raise Fail(f"{code} rejected")

    async def lookup(self, message: OutgoingMessage) -> SendResult | None:
        """Does the provider have this message already?"""
        code, _, answer = await self._request("GET", f"/messages/{self.ref(message)}")
        return SendResult(str(answer["id"])) if code == 200 else None

    async def close(self) -> None:
        """Close every connection."""
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
        self._open = 0


if __name__ == "__main__":
    # `python -m tests.fakes.provider`: serve in a process of its own; print the URL; run until
    # stdin closes (benchmarks keep the provider's work off their own interpreter lock).
    import sys

    served = FakeProvider(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0).start()
    print(served.url, flush=True)
    sys.stdin.read()
    served.stop()
