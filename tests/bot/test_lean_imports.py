"""`jobline run` loads a channel's or database's library only when the settings use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Builds the web app as `jobline run` does, then prints which of the libraries it loaded.
BUILD = """
import sys
from bot.cli_common import database_or_exit, settings_or_exit
from bot.runtime import build_runtime, check_settings
settings = settings_or_exit()
check_settings(settings)
build_runtime(settings, database_or_exit(settings), None)
print(" ".join(sorted(name for name in sys.argv[1:] if name in sys.modules)))
"""
HEAVY = ("telegram", "psycopg", "cryptography")


def loaded(tmp_path: Path, **settings: str) -> set[str]:
    """Which HEAVY libraries an app built with these JOBLINE_* settings has loaded."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBLINE_")}
    env.update(
        JOBLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'jobline.db'}",
        JOBLINE_NLU__MANAGED="false",
        JOBLINE_LOAD_DEMO_DATA="false",
        **settings,
    )
    done = subprocess.run(
        [sys.executable, "-c", BUILD, *HEAVY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(done.stdout.split())


def test_an_sms_app_on_sqlite_loads_no_telegram_postgres_or_wechat_crypto(tmp_path: Path) -> None:
    assert loaded(tmp_path) == set()


def test_a_telegram_token_loads_telegram(tmp_path: Path) -> None:
    assert "telegram" in loaded(
        tmp_path, JOBLINE_TELEGRAM__TOKEN="123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
    )
