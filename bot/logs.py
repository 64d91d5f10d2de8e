"""Log lines for a shared server: phone numbers and credentials masked everywhere, tracebacks
included."""

from __future__ import annotations

import logging
import re

from db.phones import mask_phone

# A phone number as it may appear in a log line or a database error (E.164 or national).
PHONE = re.compile(r"(?<![\w.])\+?\d{7,15}(?![\w.])")
# A credential inside a URL, as httpx logs each request at INFO: the managed Rasa server's
# `token=`, WeChat's `access_token=` and its app `secret=` (each token refresh), and a Telegram
# bot's token in its API path.
SECRET = re.compile(
    r"(?i)(?<=[?&]token=)[^&\s\"']+"
    r"|(?<=[?&]access_token=)[^&\s\"']+"
    r"|(?<=[?&]secret=)[^&\s\"']+"
    r"|(?<=/bot)\d+:[\w-]+"
)
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
ACCESS_LOGGER = "uvicorn.access"
# Access lines below this status are left out under access_log: refusals.
REFUSED = 400


def mask_phones(line: str) -> str:
    """The line with every phone-like number masked (+86138****0001)."""
    return PHONE.sub(lambda found: mask_phone(found.group(0)), line)


def mask_secrets(line: str) -> str:
    """The line with every credential in a URL replaced by ****."""
    return SECRET.sub("****", line)


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks credentials and phone numbers in the message and any
    traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The masked line."""
        return mask_phones(mask_secrets(super().format(record)))


def configure_logging(level: int = logging.INFO, access_log: str = "all") -> None:
    """INFO to stderr through the masking formatter (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    access = logging.getLogger(ACCESS_LOGGER)
    access.filters = [f for f in access.filters if not isinstance(f, OnlyRefusals)]
    if access_log == "refusals":
        access.addFilter(OnlyRefusals())


class OnlyRefusals(logging.Filter):
    """Lets through uvicorn's access lines for answers of 400 and over (forged, malformed,
    storage down, a dashboard error); a webhook answered 200 costs no line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the line is a refusal or an error (uvicorn's status is its fifth argument)."""
        args = record.args
        if not isinstance(args, tuple) or len(args) < 5 or not isinstance(args[4], int):
            return True
        return args[4] >= REFUSED
