"""`jobline run` starts the managed Rasa server, waits for it, and stops it on exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from nlu.config import NluSettings
from nlu.server import ensure_model
from tests.nlu.conftest import free_port


def answers(url: str) -> bool:
    """Something listens there (Rasa answers a caller without its token with 401)."""
    try:
        return httpx.get(url, timeout=1).status_code in (200, 401)
    except httpx.HTTPError:
        return False


def test_run_starts_rasa_and_stops_it_on_exit(tmp_path: Path) -> None:
    ensure_model(NluSettings())  # trained once per data change, shared with the other tests
    web_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "JOBLINE_NLU__URL": "",
        "JOBLINE_NLU__MANAGED_PORT": str(rasa_port),
    }
    jobline = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(web_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rasa_status = f"http://127.0.0.1:{rasa_port}/status"
    try:
        health = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and jobline.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{web_port}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health is not None, "jobline run did not answer"
        assert health["nlu"] == "ok"  # Jobline parses with the token
        assert answers(rasa_status)
        assert httpx.get(rasa_status, timeout=1).status_code == 401  # nobody else can
    finally:
        jobline.send_signal(signal.SIGTERM)
        jobline.wait(timeout=60)
    deadline = time.monotonic() + 20
    while answers(rasa_status) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not answers(rasa_status), "Rasa outlived jobline run"
