"""uvicorn's access lines under each access_log setting."""

from __future__ import annotations

import logging
from collections.abc import Iterator

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
