"""A local fake of the Telegram Bot API, for the real python-telegram-bot client in tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.local_server import Hangup, LocalServer, read_body

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Jobline",
    "username": "jobline_test_bot",
}


@dataclass
class Failure:
    """An error the next matching call returns instead of succeeding."""

    status: int
    description: str
    retry_after: int | None = None
    chat_id: str | None = None
    method: str = "sendMessage"


@dataclass
class FakeBotApi:
    """What the fake server knows: messages sent, updates waiting, webhook, injected errors."""

    token: str = TOKEN
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    unknown_chats: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    next_update_id: int = 1000
    next_message_id: int = 1
    base_url: str = ""
    delay_seconds: float = 0.0
    closed: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    def fail_next(
        self,
        status: int,
        description: str,
        retry_after: int | None = None,
        chat_id: str | None = None,
        method: str = "sendMessage",
    ) -> None:
        """Make the next call of method (to chat_id, or to anyone) fail this way."""
        self.failures.append(Failure(status, description, retry_after, chat_id, method))

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        with self.changed:
            update_id = self.next_update_id
            self.next_update_id += 1
            self.updates.append({"update_id": update_id, **update})
            self.changed.notify_all()
            return update_id

    def texts_to(self, chat_id: int | str) -> list[str]:
        """The texts sent to one chat, in order."""
        return [m["text"] for m in self.sent if str(m["chat_id"]) == str(chat_id)]

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call."""
        self.calls.append(method)
        chat_id = str(params.get("chat_id"))
        for failure in list(self.failures):
            if failure.method == method and failure.chat_id in (None, chat_id):
                self.failures.remove(failure)
                return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        result: tuple[int, dict[str, Any]] = handler(params)
        return result

    def _getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _ok(BOT_USER)

    def _sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = str(params.get("chat_id"))
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.unknown_chats:
            return _error(400, "Bad Request: chat not found")
        if not params.get("text"):
            return _error(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        record = {
            "chat_id": chat_id,
            "text": params["text"],
            "reply_markup": json.loads(markup) if isinstance(markup, str) else markup,
        }
        with self.changed:
            self.sent.append(record)
            self.sent_at.append(time.monotonic())
            message_id = self.next_message_id
            self.next_message_id += 1
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(chat_id), "type": "private"},
                "from": BOT_USER,
                "text": params["text"],
            }
        )

    def _getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self.changed:
            # An offset confirms every update before it: they are never sent again.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            while not self.updates and not self.closed and time.monotonic() < deadline:
                self.changed.wait(max(0.0, deadline - time.monotonic()))
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return _ok(self.updates[:limit])

    def _setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = {
            "url": params.get("url", ""),
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return _ok(True)

    def _deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.webhook = {}
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return _ok(True)

    def _answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.callback_answers.append(params)
        return _ok(True)


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _error(
    status: int, description: str, retry_after: int | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return status, body


def _handler_for(api: FakeBotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def _answer(self) -> None:
            try:
                body = read_body(self).decode("utf-8")
            except Hangup:
                return
            params = _params(self.headers.get("Content-Type") or "", body)
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            if len(parts) != 2 or parts[0] != f"bot{api.token}":
                status, payload = (
                    401,
                    {"ok": False, "error_code": 401, "description": "Unauthorized"},
                )
            else:
                status, payload = api.handle(parts[1], params)
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The client may have gone (a cancelled long poll).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _params(content_type: str, body: str) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        loaded = json.loads(body)
        return loaded if isinstance(loaded, dict) else {}
    return {key: values[-1] for key, values in parse_qs(body).items()}


@contextmanager
def fake_bot_api() -> Iterator[FakeBotApi]:
    """Run the fake Bot API on a free loopback port; its base_url is the server root."""
    api = FakeBotApi()
    server = LocalServer(_handler_for(api)).start()
    api.base_url = server.url
    try:
        yield api
    finally:
        with api.changed:
            api.closed = True
            api.changed.notify_all()
        server.stop()
