"""A local fake SMS provider over HTTP, and a channel that posts to it (tests and bench only).

POST /messages {"ref", "to", "text"} -> 201 {"id"}; every accepted call is recorded, duplicates
included, so a test can see a message sent twice. A share of calls can fail with 500 or 429
(never recorded), some addresses can be "blocked" (403). GET /messages/<ref> -> 200 {"id"} or
404 lets a dispatcher reconcile a message it may or may not have sent.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bot.channels.base import OutgoingMessage, SendError, SendResult


class FakeProvider:
    """A provider on 127.0.0.1 that records what it accepted."""

    def __init__(self, fail_share: float = 0.0, seed: int = 7) -> None:
        self.fail_share = fail_share
        self.rng = random.Random(seed)
        self.blocked: set[str] = set()
        self.accepted: list[dict[str, str]] = []
        self.by_ref: dict[str, str] = {}
        self.failures = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeProvider:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def per_address(self) -> Counter[str]:
        """How many accepted messages each address got."""
        with self.lock:
            return Counter(item["to"] for item in self.accepted)

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


def _handler_for(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, code: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            self._answer(*provider.accept(body))

        def do_GET(self) -> None:
            ref = self.path.rsplit("/", 1)[-1]
            with provider.lock:
                found = provider.by_ref.get(ref)
            if found is None:
                self._answer(404, {"error": "not found"}, {})
            else:
                self._answer(200, {"id": found}, {})

    return Handler


class HttpChannel:
    """A channel that sends through the fake provider, classifying errors like a real one."""

    def __init__(self, base_url: str, name: str = "sms") -> None:
        self.name = name
        self.client = httpx.AsyncClient(base_url=base_url, timeout=10.0)

    @staticmethod
    def ref(message: OutgoingMessage) -> str:
        """The provider-side key of a message: its outbox id."""
        return f"outbox-{message.outbox_id}"

    async def send(self, message: OutgoingMessage) -> SendResult:
        """POST the message; 5xx/429 retry, 403 stops the contact, other 4xx fail."""
        try:
            answer = await self.client.post(
                "/messages",
                json={"ref": self.ref(message), "to": message.address, "text": message.text},
            )
        except httpx.TransportError as error:
            raise SendError("retry", f"transport: {error!r}") from error
        if answer.status_code == 201:
            return SendResult(answer.json()["id"])
        if answer.status_code == 429:
            after = float(answer.headers.get("Retry-After", "1"))
            raise SendError("retry", "429 too many requests", retry_after=after)
        if answer.status_code >= 500:
            raise SendError("retry", f"{answer.status_code} provider error")
        if answer.status_code == 403:
            raise SendError("stop", "recipient blocked us")
        raise SendError("fail", f"{answer.status_code} rejected")

    async def lookup(self, message: OutgoingMessage) -> SendResult | None:
        """Does the provider have this message already?"""
        answer = await self.client.get(f"/messages/{self.ref(message)}")
        if answer.status_code == 200:
            return SendResult(answer.json()["id"])
        return None

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
