"""A local fake of the WeChat Official Account API: access token, customer-service and template
messages, and the custom menu, answering as WeChat documents (errcode/errmsg JSON)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.local_server import Hangup, LocalServer, read_body

ERRORS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40037: "invalid template_id",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
}


@dataclass(frozen=True)
class Call:
    """One API request the fake received."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)


class FakeWeChat:
    """WeChat's API on 127.0.0.1. Refreshing the token invalidates the old one, as WeChat does."""

    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self.calls: list[Call] = []
        self.tokens_issued = 0
        self.token = ""
        self.menu: dict[str, Any] | None = None
        self.window_closed: set[str] = set()  # openids whose 48 hours have passed
        self.unsubscribed: set[str] = set()
        self.fail_next: list[int] = []  # errcodes to answer the next sends with
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler())

    @property
    def url(self) -> str:
        """The server root, for wechat.api_base_url."""
        return self._server.url

    def start(self) -> FakeWeChat:
        """Start serving in a background thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def sent(self, kind: str = "custom") -> list[dict[str, Any]]:
        """Bodies of the accepted customer-service (`custom`) or `template` sends, in order."""
        path = f"/cgi-bin/message/{kind}/send"
        return [c.body for c in self.calls if c.path == path and c.body.get("_accepted")]

    def _answer(self, call: Call) -> dict[str, Any]:
        if call.path == "/cgi-bin/token":
            if call.query.get("appid") != self.app_id:
                return _error(40013)
            if call.query.get("secret") != self.secret:
                return _error(40001)
            with self._lock:
                self.tokens_issued += 1
                self.token = f"token-{self.tokens_issued}-{uuid.uuid4().hex[:8]}"
                return {"access_token": self.token, "expires_in": 7200}
        if call.query.get("access_token") != self.token or not self.token:
            return _error(40001)
        if call.path == "/cgi-bin/menu/create":
            self.menu = call.body
            return _error(0)
        if call.path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send"):
            with self._lock:
                planned = self.fail_next.pop(0) if self.fail_next else 0
            if planned:
                return _error(planned)
            to = str(call.body.get("touser", ""))
            if to in self.unsubscribed:
                return _error(43004)
            if call.path.endswith("custom/send") and to in self.window_closed:
                return _error(45015)
            call.body["_accepted"] = True
            return {**_error(0), "msgid": int(time.time() * 1000) % 10**12}
        return {"errcode": 404, "errmsg": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                try:
                    raw = read_body(self).decode("utf-8")
                except Hangup:
                    return
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError:
                    body = {}
                call = Call(parts.path, query, body if isinstance(body, dict) else {})
                with fake._lock:
                    fake.calls.append(call)
                payload = json.dumps(fake._answer(call), ensure_ascii=False).encode("utf-8")
                self.send_response(200)  # WeChat answers 200 and puts the error in the body
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _error(code: int) -> dict[str, Any]:
    return {"errcode": code, "errmsg": ERRORS.get(code, "ok")}
