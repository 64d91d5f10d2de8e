"""`jobline run` starts the web app on the address given, with demo data and /health."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

from db.models import JobPost
from tests.fakes.local_server import free_port


def test_run_serves_health_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "run.db"
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": f"sqlite:///{db}",
        # An external NLU address that does not answer: Jobline must still start.
        "JOBLINE_NLU__URL": "http://127.0.0.1:9",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None, "jobline run did not answer"
        assert answer.status_code == 200
        assert answer.json()["database"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        assert connection.scalar(select(func.count(JobPost.id))) == 14
    engine.dispose()
