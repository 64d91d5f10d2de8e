"""A local fake of SMS Gateway for Android's HTTP API, built from its OpenAPI spec and docs.

One FakeGateway is either one phone's local server or the cloud server with several phones
(messages name theirs in `deviceId`). It speaks the documented API:
  POST /messages {id, phoneNumbers, textMessage: {text}, deviceId, withDeliveryReport}
       -> 202 GetMessageResponse {id, deviceId, state: Pending, recipients}; 409 for a known id
  GET /messages/{id} -> 200 GetMessageResponse, or 404
  POST /webhooks {id, url, event, deviceId} -> 201 (the same id replaces); GET /webhooks
behind HTTP Basic auth (401 without it). `offline()` closes the port the way a phone that lost
Wi-Fi does (connection refused) and `online()` opens it again.

`webhook()` makes the signed call a phone sends to Jobline: JSON {id, webhookId, event,
deviceId, payload}, X-Timestamp (Unix seconds) and X-Signature = hex HMAC-SHA256 of the body
followed by the timestamp, keyed with the signing key set in the app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import Hangup, LocalServer, hold_port, read_body

USERNAME = "sms"
PASSWORD = "gateway-test-password"
SIGNING_KEY = "gateway-test-signing-key"


@dataclass(frozen=True)
class Texted:
    """One message a phone accepted: its id, the phone, the number, the text, when (monotonic)."""

    id: str
    device: str
    to: str
    text: str
    at: float


class FakeGateway:
    """The gateway's API on 127.0.0.1; `texts` holds what every phone accepted, in order."""

    def __init__(self, devices: tuple[str, ...] = ("phone",)) -> None:
        self.devices = devices
        self.texts: list[Texted] = []
        self.by_id: dict[str, Texted] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.refused = 0
        self._lock = threading.Lock()
        self._port = 0
        self._server: LocalServer | None = None
        self._held: socket.socket | None = None

    @property
    def url(self) -> str:
        """The API root, for sms.android.api_url or a phone's url."""
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> FakeGateway:
        """Listen (on a free port the first time, on the same port after `offline`)."""
        self._server = LocalServer(self._handler(), self._port).start()
        self._port = self._server.port
        if self._held is not None:
            self._held.close()
            self._held = None
        return self

    def stop(self) -> None:
        """Close the port."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._held is not None:
            self._held.close()
            self._held = None

    def offline(self) -> None:
        """The phone drops off the network: connections are refused, the port stays ours."""
        held = hold_port(self._port)
        self.stop()
        self._held = held

    def online(self) -> None:
        """The phone is back."""
        self.start()

    def sent_to(self, number: str) -> list[Texted]:
        """What the phones accepted for one number."""
        with self._lock:
            return [text for text in self.texts if text.to == number]

    def per_device(self) -> dict[str, list[Texted]]:
        """Accepted texts by phone."""
        with self._lock:
            result: dict[str, list[Texted]] = {}
            for text in self.texts:
                result.setdefault(text.device, []).append(text)
            return result

    def state(self, text: Texted, state: str = "Pending") -> dict[str, Any]:
        """A GetMessageResponse for one message."""
        return {
            "id": text.id,
            "deviceId": text.device,
            "state": state,
            "isHashed": False,
            "isEncrypted": False,
            "recipients": [{"phoneNumber": text.to, "state": state}],
            "states": {},
        }

    def accept(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /messages."""
        numbers = body.get("phoneNumbers")
        text = (body.get("textMessage") or {}).get("text") or body.get("message")
        if not isinstance(numbers, list) or len(numbers) != 1 or not text:
            return 400, {"message": "phoneNumbers and textMessage.text are required"}
        device = body.get("deviceId") or self.devices[0]
        if device not in self.devices:
            return 400, {"message": f"unknown device {device}"}
        with self._lock:
            ours = body.get("id") or uuid.uuid4().hex[:21]
            if ours in self.by_id:
                self.refused += 1
                return 409, {"message": f"message with id {ours} already exists"}
            texted = Texted(ours, device, numbers[0], text, time.monotonic())
            self.texts.append(texted)
            self.by_id[ours] = texted
        return 202, self.state(texted)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def answer(self, status: int, body: Any = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self) -> Any:
                return json.loads(read_body(self) or b"{}")

            def authorized(self) -> bool:
                if self.headers.get("Authorization") == expected:
                    return True
                self.answer(401, {"message": "Unauthorized"})
                return False

            def do_POST(self) -> None:
                if not self.authorized():
                    return
                try:
                    body = self.body()
                except Hangup:
                    return
                if self.path.split("?")[0] == "/messages":
                    self.answer(*fake.accept(body))
                elif self.path == "/webhooks":
                    hook = {**body, "id": body.get("id") or uuid.uuid4().hex}
                    with fake._lock:
                        fake.webhooks[hook["id"]] = hook
                    self.answer(201, hook)
                else:
                    self.answer(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                if not self.authorized():
                    return
                if self.path == "/webhooks":
                    self.answer(200, list(fake.webhooks.values()))
                    return
                if self.path.startswith("/messages/"):
                    texted = fake.by_id.get(self.path.removeprefix("/messages/"))
                    if texted is not None:
                        self.answer(200, fake.state(texted))
                        return
                self.answer(404, {"message": "Not Found"})

        return Handler


def webhook(
    event: str,
    payload: dict[str, Any],
    *,
    device: str = "phone",
    key: str = SIGNING_KEY,
    timestamp: float | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one signed webhook call, as a phone sends it."""
    body = json.dumps(
        {
            "id": uuid.uuid4().hex[:21],
            "webhookId": f"jobline-{event.replace(':', '-')}",
            "event": event,
            "deviceId": device,
            "payload": payload,
        },
        ensure_ascii=False,
    ).encode()
    stamp = str(int(time.time() if timestamp is None else timestamp))
    signature = hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": signature}
    return body, headers


def received(sender: str, text: str, at: str, recipient: str = "+8613900000000") -> dict[str, Any]:
    """An sms:received payload (messageId derives from the content, as the app's does)."""
    digest = hashlib.sha256(f"{sender}{text}".encode()).hexdigest()[:16]
    return {
        "messageId": digest,
        "message": text,
        "sender": sender,
        "recipient": recipient,
        "phoneNumber": sender,
        "simNumber": 1,
        "receivedAt": at,
    }
