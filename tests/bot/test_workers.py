"""More than one process: `jobline run` twice and `jobline worker` twice on one PostgreSQL.

Each seeker's texts go to the two app processes in turn, the next as soon as the last is stored,
so the turns of one seeker race between processes. Every text must be answered once, in the
order it came, by a turn that saw the state the turn before it wrote; every reply is sent once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from db.models import Contact, Message, OutboxMessage
from tests.fakes.local_server import free_port
from tests.fakes.postgres import fresh_postgres_url
from tests.fakes.processes import stop
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, PUBLIC_URL, FakeTwilio

ROOT = Path(__file__).resolve().parents[2]
PATH = "/webhooks/twilio/sms"
TEXTS = ("hi", "register", "Wang Fang", "1978", "Daoli", "jobs")
SEEKERS = 24


def environment(database_url: str, fake: FakeTwilio) -> dict[str, str]:
    """Every process's settings: the test schema, the fake Twilio, no Rasa (keywords suffice)."""
    return {
        **os.environ,
        "JOBLINE_DATABASE_URL": database_url,
        "JOBLINE_LOAD_DEMO_DATA": "false",
        "JOBLINE_PUBLIC_BASE_URL": PUBLIC_URL,
        "JOBLINE_TWILIO__ACCOUNT_SID": ACCOUNT_SID,
        "JOBLINE_TWILIO__AUTH_TOKEN": AUTH_TOKEN,
        "JOBLINE_TWILIO__FROM_NUMBER": FROM_NUMBER,
        "JOBLINE_TWILIO__API_BASE_URL": fake.url,
        "JOBLINE_NOTIFY__QUIET_HOURS": "",
        "JOBLINE_NOTIFY__RATE_LIMITS__TWILIO": "0",
        "JOBLINE_NLU__MANAGED": "false",
    }


@contextmanager
def started(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A `jobline` command running until the block ends (then stopped with SIGTERM)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *command], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        try:
            yield process
        finally:
            stop(process)


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def text(http: httpx.Client, port: int, phone: str, body: str) -> None:
    """One signed inbound SMS to the process on this port; returns once it is stored."""
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + PATH, form)
    answer = http.post(
        f"http://127.0.0.1:{port}{PATH}", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200, answer.text


def replies_by_text(engine: Engine, phone: str) -> list[list[str]]:
    """For each text the seeker sent (in order), the replies queued for it, in queue order."""
    with engine.connect() as connection:
        contact_id = connection.scalar(select(Contact.id).where(Contact.address == phone))
        messages = list(
            connection.scalars(
                select(Message.id).where(Message.contact_id == contact_id).order_by(Message.id)
            )
        )
        rows = connection.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.text)
            .where(OutboxMessage.contact_id == contact_id)
            .order_by(OutboxMessage.id)
        ).all()
    answered = [int(key.split(":")[1]) for key, _ in rows]
    # Queued in the order the texts came: every reply to a text before any reply to the next.
    assert answered == sorted(answered), f"{phone}: replies queued out of order"
    return [[body for key, body in rows if int(key.split(":")[1]) == m] for m in messages]


def unanswered(engine: Engine) -> int:
    with engine.connect() as connection:
        waiting = select(func.count()).where(Message.status == "received")
        unsent = select(func.count()).where(OutboxMessage.status.in_(("queued", "sending")))
        return int(connection.scalar(waiting) or 0) + int(connection.scalar(unsent) or 0)


@pytest.fixture
def database_url(postgres_server: str) -> Iterator[str]:
    yield from fresh_postgres_url(postgres_server)


def test_two_app_processes_answer_each_seeker_in_order_and_once(
    database_url: str, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    env = environment(database_url, fake_twilio)
    ports = [free_port(), free_port()]
    engine = create_engine(database_url)
    with ExitStack() as stack:
        for index, port in enumerate(ports):
            command = ["run", "--host", "127.0.0.1", "--port", str(port)]
            stack.enter_context(started(command, env, tmp_path / f"run{index}.log"))
            wait_for(lambda port=port: healthy(port), 120, f"jobline run on {port}")
        for index in range(2):  # delivery machines beside the two app processes' dispatchers
            stack.enter_context(started(["worker"], env, tmp_path / f"worker{index}.log"))
        http = stack.enter_context(httpx.Client(timeout=30))

        # One seeker alone, each text once the last is answered: what each text should get.
        alone = "+8613700000000"
        for body in TEXTS:
            text(http, ports[0], alone, body)
            wait_for(lambda: unanswered(engine) == 0, 30, f"the answer to {body!r}")
        expected = replies_by_text(engine, alone)
        assert all(expected), f"a text got no reply: {expected}"

        # Many seekers at once, each text to the other process as soon as the last is stored.
        def converse(phone: str) -> None:
            with httpx.Client(timeout=30) as own:
                for index, body in enumerate(TEXTS):
                    text(own, ports[index % 2], phone, body)

        phones = [f"+86139{index:08d}" for index in range(SEEKERS)]
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(converse, phones))
        wait_for(lambda: unanswered(engine) == 0, 120, "every turn and every send")

    for phone in phones:
        assert replies_by_text(engine, phone) == expected, phone
    with engine.connect() as connection:
        queued = Counter(
            (address, body)
            for address, body in connection.execute(
                select(OutboxMessage.address, OutboxMessage.text)
            )
        )
        failed = connection.scalar(select(func.count()).where(Message.status != "handled"))
    engine.dispose()
    assert failed == 0
    sent = Counter((form["To"], form["Body"]) for form in fake_twilio.sent)
    assert sent == queued  # every reply reached Twilio exactly once
    assert sum(sent.values()) == (SEEKERS + 1) * sum(len(replies) for replies in expected)


def test_more_than_one_process_on_sqlite_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "JOBLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}
    command = [sys.executable, "-m", "bot.cli", "run", "--workers", "2"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "--workers 2 needs PostgreSQL (database_url): SQLite serves one process; use --workers 1."
    ]
    assert not (tmp_path / "one.db").exists()  # refused before anything was opened


def test_more_than_one_process_long_polling_telegram_is_refused(postgres_server: str) -> None:
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": postgres_server,
        "JOBLINE_TELEGRAM__TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "JOBLINE_PUBLIC_BASE_URL": "",
    }
    command = [sys.executable, "-m", "bot.cli", "run", "--workers", "3"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "--workers 3 needs Telegram's webhook (public_base_url): only one process may long-poll "
        "a bot."
    ]


def children(pid: int) -> list[int]:
    """The processes this one started (uvicorn's workers, its resource tracker)."""
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, not yet reaped


def test_sigterm_stops_every_worker_process(
    database_url: str, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    port = free_port()
    command = ["run", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    env = environment(database_url, fake_twilio)
    with started(command, env, tmp_path / "run.log") as parent:
        wait_for(lambda: healthy(port), 120, "jobline run --workers 2")
        log = tmp_path / "run.log"
        wait_for(lambda: log.read_text().count("worker process") == 2, 60, "both workers")
        workers = children(parent.pid)
        assert len(workers) >= 2
        parent.terminate()
        assert parent.wait(timeout=30) == 0
    wait_for(lambda: all(gone(pid) for pid in workers), 10, "the workers to stop")
    assert not healthy(port)


def test_worker_processes_are_pointed_at_the_parents_rasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import load_settings
    from bot.workers import share_rasa

    monkeypatch.delenv("JOBLINE_NLU__URL", raising=False)
    monkeypatch.delenv("JOBLINE_NLU__AUTH_TOKEN", raising=False)
    nlu = {"managed": True, "managed_port": 5999, "models_dir": str(tmp_path / "models")}
    (tmp_path / "rasa-5999.token").write_text("the-managed-token")  # as ManagedRasa keeps it
    share_rasa(load_settings(database_url="postgresql://x/y", nlu=nlu))
    # What a worker process reads from the environment it inherits: that server, not its own.
    worker = load_settings(nlu={"managed_port": 5999, "models_dir": str(tmp_path / "models")})
    assert worker.nlu.url == "http://127.0.0.1:5999"
    assert worker.nlu.auth_token == "the-managed-token"
