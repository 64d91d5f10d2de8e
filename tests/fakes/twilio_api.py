"""A local fake of Twilio's REST API: records message requests and answers like Twilio."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from bot.settings import Settings, load_settings
from tests.fakes.local_server import Hangup, LocalServer, read_body

# The account every test's fake Twilio answers for, and where Jobline says it lives.
ACCOUNT_SID = "AC" + "1234abcd" * 4
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://jobline.example.org"

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number {to} is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


@dataclass(frozen=True)
class Answer:
    """What the fake says to the next request: an HTTP status, a JSON body, headers, a delay."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def twilio_error(status: int, code: int, retry_after: float | None = None) -> Answer:
    """An error answer shaped like Twilio's (code, message, more_info, status)."""
    body = {
        "code": code,
        "message": ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Answer(status, body, headers)


def slow(seconds: float) -> Answer:
    """A success that takes this long (to make the client time out)."""
    return Answer(201, delay=seconds)


@dataclass(frozen=True)
class SentRequest:
    """One request the fake received."""

    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    at: float = field(default_factory=time.perf_counter)


class FakeTwilio:
    """Twilio's Messages API on 127.0.0.1; plan answers with `answer_next`.

    It keeps every message it accepted, with its date_sent from `clock`, and answers the
    Message list (GET .../Messages.json with To, From and DateSent>) from them.
    """

    def __init__(
        self, account_sid: str, auth_token: str, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.messages: list[dict[str, Any]] = []
        # Every accepted message takes this long to answer (it is kept at once, as Twilio does).
        self.delay = 0.0
        self.requests: list[SentRequest] = []
        self._plan: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._server = LocalServer(self._handler())

    @property
    def url(self) -> str:
        """The server root, for twilio.api_base_url."""
        return self._server.url

    @property
    def sent(self) -> list[dict[str, str]]:
        """The forms of every message-create request, in order."""
        return [
            r.form
            for r in self.requests
            if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def _list(self, query: dict[str, str]) -> Answer:
        """The Message list, newest first, filtered as Twilio filters it."""
        after = _when(query.get("DateSent>"))
        with self._lock:
            found = [
                m
                for m in reversed(self.messages)
                if m["to"] == query.get("To", m["to"])
                and m["from"] == query.get("From", m["from"])
                and (after is None or m["sent"] >= after)
            ]
        size = int(query.get("PageSize") or 50)
        records = [{k: v for k, v in m.items() if k != "sent"} for m in found[:size]]
        meta = {"page": 0, "page_size": size, "next_page_uri": None, "uri": "/list"}
        return Answer(200, {"messages": records, **meta})

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order; after them, success again."""
        with self._lock:
            self._plan.extend(answers)

    def start(self) -> FakeTwilio:
        """Start serving in a background thread."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def _next(self) -> Answer | None:
        with self._lock:
            return self._plan.popleft() if self._plan else None

    def _answer(self, request: SentRequest) -> Answer:
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if request.auth != (self.account_sid, self.auth_token):
            return twilio_error(401, 20003)
        path, _, query = request.path.partition("?")
        if request.method == "GET" and path == expected:
            return self._list({k: v[-1] for k, v in parse_qs(query).items()})
        if request.method != "POST" or request.path != expected:
            return twilio_error(404, 20404)
        planned = self._next()
        if planned is not None and planned.status >= 300:
            message = str(planned.body.get("message", ""))
            if "{to}" in message:
                body = {**planned.body, "message": message.format(to=request.form.get("To"))}
                return Answer(planned.status, body, planned.headers)
            return planned
        if "To" not in request.form or "Body" not in request.form:
            return twilio_error(400, 21604)
        sent = self.clock()
        body = message_record(self.account_sid, "SM" + uuid.uuid4().hex, request.form, sent)
        with self._lock:
            self.messages.append({**body, "sent": sent})
        return Answer(201, body, delay=planned.delay if planned else self.delay)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Twilio's API

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                try:
                    raw = read_body(self).decode("utf-8")
                except Hangup:  # a worker killed mid-request: Twilio never gets this message
                    return
                form = {key: values[-1] for key, values in parse_qs(raw).items()}
                request = SentRequest(self.command, self.path, form, _basic_auth(self.headers))
                with fake._lock:
                    fake.requests.append(request)
                answer = fake._answer(request)
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode("utf-8")
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def message_record(
    account_sid: str, sid: str, form: dict[str, str], sent: datetime
) -> dict[str, Any]:
    """The JSON Twilio answers for a message it accepted from this form."""
    return {
        "sid": sid,
        "account_sid": account_sid,
        "to": form["To"],
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form["Body"],
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
        "date_sent": format_datetime(sent, usegmt=True),
    }


def _when(raw: str | None) -> datetime | None:
    """DateSent> as the client sends it: an ISO time (or a date, as Twilio documents)."""
    if not raw:
        return None
    when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _basic_auth(headers: Any) -> tuple[str, str] | None:
    value = str(headers.get("Authorization") or "")
    if not value.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(value[6:]).decode("utf-8").partition(":")
    return user, password


def twilio_section(api: FakeTwilio, **extra: str) -> dict[str, str]:
    """The settings' `twilio:` section, sending through this fake."""
    return {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": FROM_NUMBER,
        "api_base_url": api.url,
        **extra,
    }


def twilio_settings(database_url: str, api: FakeTwilio, **overrides: Any) -> Settings:
    """Settings with the SMS channel on, sending through this fake (no demo posts)."""
    return load_settings(
        database_url=database_url,
        load_demo_data=False,
        public_base_url=PUBLIC_URL,
        twilio=twilio_section(api),
        **overrides,
    )
