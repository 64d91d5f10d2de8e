"""A local HTTP server that answers /model/parse badly: garbage, errors, or too slowly."""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler

from tests.fakes.local_server import LocalServer

# What each mode answers: (status, content type, body), or a delay before a good answer.
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "not_json": (200, "text/html", b"<html>502 Bad Gateway</html>"),
    "json_list": (200, "application/json", b"[1, 2, 3]"),
    "no_intent": (200, "application/json", b'{"text": "x", "entities": []}'),
    "intent_null": (200, "application/json", b'{"intent": null}'),
    "nan_confidence": (
        200,
        "application/json",
        b'{"intent": {"name": "find_jobs", "confidence": NaN}}',
    ),
    "huge_confidence": (
        200,
        "application/json",
        b'{"intent": {"name": "find_jobs", "confidence": 7}}',
    ),
    "string_confidence": (
        200,
        "application/json",
        b'{"intent": {"name": "stop", "confidence": "high"}}',
    ),
    "unknown_intent": (
        200,
        "application/json",
        b'{"intent": {"name": "nlu_fallback", "confidence": 0.99}, "entities": []}',
    ),
    "bad_entities": (
        200,
        "application/json",
        json.dumps(
            {
                "intent": {"name": "find_jobs", "confidence": 0.97},
                "entities": [
                    "daoli",
                    {"entity": "location"},
                    {"entity": "location", "value": {"x": 1}},
                    {"entity": "location", "value": "Atlantis"},
                    {"entity": "job_category", "value": "CLEANER"},
                ],
            }
        ).encode(),
    ),
    # Rasa sure of a job search whatever the words (as it was of "a table for 3 at olive garden").
    "sure_find_jobs": (
        200,
        "application/json",
        json.dumps(
            {
                "intent": {"name": "find_jobs", "confidence": 0.9},
                "entities": [],
                "intent_ranking": [
                    {"name": "find_jobs", "confidence": 0.9},
                    {"name": "register", "confidence": 0.06},
                    "garbage",
                    {"name": "greet", "confidence": "high"},
                ],
            }
        ).encode(),
    ),
    # Rasa sure a message is not ours (as it was of a long, polite letter asking for work).
    "sure_out_of_scope": (
        200,
        "application/json",
        json.dumps(
            {
                "intent": {"name": "out_of_scope", "confidence": 1.0},
                "entities": [],
                "intent_ranking": [{"name": "out_of_scope", "confidence": 1.0}],
            }
        ).encode(),
    ),
    # Rasa torn between two intents.
    "torn": (
        200,
        "application/json",
        json.dumps(
            {
                "intent": {"name": "find_jobs", "confidence": 0.55},
                "entities": [],
                "intent_ranking": [
                    {"name": "find_jobs", "confidence": 0.55},
                    {"name": "register", "confidence": 0.41},
                ],
            }
        ).encode(),
    ),
    "server_error": (500, "text/plain", b"Internal Server Error"),
    "truncated": (200, "application/json", b'{"intent": {"name": "find_j'),
}
GOOD = json.dumps({"intent": {"name": "find_jobs", "confidence": 0.95}, "entities": []}).encode()


class FakeRasa:
    """Serves one mode at a time on 127.0.0.1; `slow` answers well but after `delay` seconds."""

    def __init__(self, mode: str = "not_json", delay: float = 3.0) -> None:
        self.mode = mode
        self.delay = delay
        self.requests = 0
        self.last_body = b""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.requests += 1
                length = int(self.headers.get("Content-Length", 0))
                fake.last_body = self.rfile.read(length)
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                    status, kind, body = 200, "application/json", GOOD
                else:
                    status, kind, body = ANSWERS[fake.mode]
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # The client may have given up waiting, as it should.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = LocalServer(Handler)
        self.url = self._server.url

    def __enter__(self) -> FakeRasa:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
