"""A lean fake of Twilio's Messages API for benchmarks: one asyncio server, no threads.

It speaks the part of the API that Jobline's sender uses under load (a form POST to
.../Accounts/{sid}/Messages.json with Basic auth, on kept-alive HTTP/1.1 connections) and
answers as Twilio does (201 and the message's JSON, or Twilio's error shape). It runs on the
benchmark's own event loop, so the client and the fake share one thread and cost little of the
machine the measured app runs on. `tests/fakes/twilio_api.py` is the full fake the tests use.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast
from urllib.parse import parse_qsl

from tests.fakes.twilio_api import Answer, message_record, twilio_error

# Called with the form of each accepted message and when its request arrived (perf_counter).
OnMessage = Callable[[dict[str, str], float], None]
HEADER_END = b"\r\n\r\n"


class LeanTwilio:
    """Twilio's Messages API (sends only) on 127.0.0.1, served by the running event loop."""

    def __init__(self, account_sid: str, auth_token: str, on_message: OnMessage) -> None:
        self.account_sid = account_sid
        self.path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.authorization = "Basic " + base64.b64encode(
            f"{account_sid}:{auth_token}".encode()
        ).decode("ascii")
        self.on_message = on_message
        self.sent: list[dict[str, str]] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The server root, for twilio.api_base_url."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> LeanTwilio:
        """Listen on a free loopback port."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), "127.0.0.1", 0, backlog=512
        )
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """What Twilio would answer to this request; an accepted message is recorded."""
        at = time.perf_counter()
        if headers.get("authorization") != self.authorization:
            return twilio_error(401, 20003)
        if method != "POST" or path != self.path:
            return twilio_error(404, 20404)
        form: dict[str, str] = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if "To" not in form or "Body" not in form:
            return twilio_error(400, 21604)
        sid = "SM" + uuid.uuid4().hex
        record = message_record(self.account_sid, sid, form, datetime.now(UTC))
        self.sent.append(form)
        self.on_message(form, at)
        return Answer(201, record)


class _Connection(asyncio.Protocol):
    """One kept-alive client connection: requests parsed as they arrive, answered in order."""

    def __init__(self, fake: LeanTwilio) -> None:
        self.fake = fake
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(HEADER_END)) >= 0:
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                self._reply(twilio_error(400, 20001), close=True)  # never sent by our sender
                return
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is still on its way
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            answer = self.fake.answer(method, path, headers, body)
            self._reply(answer, close=headers.get("connection", "").lower() == "close")

    def _reply(self, answer: Answer, close: bool) -> None:
        assert self.transport is not None
        payload = json.dumps(answer.body).encode("utf-8")
        extra = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
        head = (
            f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n"
        )
        self.transport.write(head.encode("latin-1") + payload)
        if close:
            self.transport.close()


REASONS = {201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
