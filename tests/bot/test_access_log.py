"""uvicorn's access lines under each access_log setting; credentials in logged URLs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.logs import ACCESS_LOGGER, configure_logging

# uvicorn's access line: client, method, path, HTTP version, status.
LINE = '%s - "%s %s HTTP/%s" %d'


class Lines(logging.Handler):
    """Keeps the messages it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[Lines]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    kept = Lines()
    yield kept
    root.handlers, root.level = before, level
    logging.getLogger(ACCESS_LOGGER).filters = []


def access(status: int) -> None:
    logging.getLogger(ACCESS_LOGGER).info(
        LINE, "127.0.0.1:5000", "POST", "/webhooks/twilio/sms", "1.1", status
    )


@pytest.mark.parametrize(
    ("setting", "shown"),
    [("all", [200, 204, 403, 503]), ("refusals", [403, 503])],
)
def test_access_lines_by_setting(lines: Lines, setting: str, shown: list[int]) -> None:
    configure_logging(access_log=setting)
    logging.getLogger().addHandler(lines)
    for status in (200, 204, 403, 503):
        access(status)
    assert [int(message.rsplit(" ", 1)[1]) for message in lines.messages] == shown


def test_another_line_of_the_access_logger_is_kept(lines: Lines) -> None:
    configure_logging(access_log="refusals")
    logging.getLogger().addHandler(lines)
    logging.getLogger(ACCESS_LOGGER).info("a line of another shape")
    assert lines.messages == ["a line of another shape"]


class Answers(BaseHTTPRequestHandler):
    """A local HTTP server that answers every GET with 200."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        """Quiet."""


def test_credentials_in_logged_urls_are_masked(
    lines: Lines, capsys: pytest.CaptureFixture[str]
) -> None:
    """Credentials in the URLs httpx logs at INFO (Rasa's, WeChat's, Telegram's) are masked."""
    configure_logging()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    secrets = ["G0DHl5Id13dhX_-xQ", "AAHfiqksKZ8WmR2zSjiQ7_v4TMA", "wx-Access.Token9", "AppS3cret"]
    try:
        with httpx.Client() as client:
            client.get(f"{base}/model/parse?token={secrets[0]}")
            client.get(f"{base}/bot123456789:{secrets[1]}/sendMessage?chat_id=+8613800000077")
            client.get(f"{base}/cgi-bin/message/custom/send?access_token={secrets[2]}&x=1")
            client.get(f"{base}/cgi-bin/token?appid=wx1&secret={secrets[3]}")
    finally:
        server.shutdown()
    logged = capsys.readouterr().err
    assert logged.count("HTTP Request: GET") == 4
    assert not any(secret in logged for secret in secrets)
    assert "token=****" in logged and "/bot****/sendMessage" in logged
    assert "access_token=****&x=1" in logged and "appid=wx1&secret=****" in logged
    assert "+8613800000077" not in logged and "+86138****0077" in logged
