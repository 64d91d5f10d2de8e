"""Log lines for a shared server: phone numbers masked everywhere, tracebacks included."""

from __future__ import annotations

import logging
import re

from db.phones import mask_phone

# A phone number as it may appear in a log line or a database error (E.164 or national).
PHONE = re.compile(r"(?<![\w.])\+?\d{7,15}(?![\w.])")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask_phones(line: str) -> str:
    """The line with every phone-like number masked (+86138****0001)."""
    return PHONE.sub(lambda found: mask_phone(found.group(0)), line)


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks phone numbers in the message and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The masked line."""
        return mask_phones(super().format(record))


def configure_logging(level: int = logging.INFO) -> None:
    """INFO to stderr through the masking formatter (uvicorn's loggers propagate to it)."""
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
