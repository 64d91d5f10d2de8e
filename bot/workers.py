"""`jobline run --workers N`: N app processes on one port, sharing PostgreSQL and one Rasa."""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack

from starlette.applications import Starlette

from bot.settings import Settings

log = logging.getLogger(__name__)
# Kept open for the life of a worker process: its Rasa client.
_held = ExitStack()


def refusal(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` app processes (None: they can)."""
    from bot.channels.telegram_config import telegram_mode

    if workers < 2:
        return None
    if settings.database_url.startswith("sqlite"):
        return (
            f"--workers {workers} needs PostgreSQL (database_url): SQLite serves one process; "
            "use --workers 1."
        )
    if settings.telegram.token and telegram_mode(settings) == "polling":
        return (
            f"--workers {workers} needs Telegram's webhook (public_base_url): only one process "
            "may long-poll a bot."
        )
    return None


def share_rasa(settings: Settings) -> None:
    """Point the worker processes at the Rasa server this process manages (they start none)."""
    from nlu.server import read_token

    nlu = settings.nlu
    if nlu.url or not nlu.managed:
        return  # an external server (the workers inherit its settings) or no Rasa at all
    os.environ["JOBLINE_NLU__URL"] = nlu.base_url()
    os.environ["JOBLINE_NLU__AUTH_TOKEN"] = read_token(nlu) or ""


def app() -> Starlette:
    """One worker process's web app (uvicorn calls this in each process it starts)."""
    from bot.database import open_database
    from bot.logs import configure_logging
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    from nlu.service import nlu_service

    settings = load_settings()
    configure_logging(access_log=settings.access_log)
    database = open_database(settings)  # already migrated by the parent: a quick check
    understander = _held.enter_context(nlu_service(settings.nlu))
    log.info("worker process %d ready", os.getpid())
    return build_runtime(settings, database, understander)
