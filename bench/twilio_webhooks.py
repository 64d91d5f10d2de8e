"""Signed Twilio webhooks against `jobline run`: latency, messages per second, every one answered.

Starts `jobline run` on a free loopback port (SQLite, then PostgreSQL when reachable), drives N
signed inbound-SMS webhooks from 50 concurrent clients, waits for every turn, and checks the
outbox: every message stored once and answered exactly once, none lost, no 5xx. A tenth of the
messages are delivered twice (Twilio retries); they must not be answered twice.

Baseline: the same uvicorn + Starlette stack in another process of this script, serving one
route that only parses the form and verifies the signature with the same TwilioSignature class
(no storage, no turn). Figures are printed with the ratio jobline / baseline.

    .venv/bin/python bench/twilio_webhooks.py [--n 2000] [--clients 50] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.postgres import postgres_available, postgres_schema  # noqa: E402
from tests.fakes.processes import stop  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

ACCOUNT_SID = "AC" + "be7c4b11" * 4
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://jobline.bench.example"
PATH = "/webhooks/twilio/sms"
BODIES = ("help", "hello", "HELP", "hi")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Webhook:
    """One signed inbound SMS as Twilio posts it."""

    sid: str
    form: dict[str, str]
    signature: str


def webhooks(n: int, phones: int) -> list[Webhook]:
    """N signed messages from `phones` seekers, in the order they would arrive."""
    validator = RequestValidator(AUTH_TOKEN)
    made = []
    for index in range(n):
        sid = f"SM{uuid.uuid4().hex}"
        form = {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": f"+86138{index % phones:08d}",
            "To": FROM_NUMBER,
            "Body": BODIES[index % len(BODIES)],
            "NumMedia": "0",
        }
        made.append(Webhook(sid, form, validator.compute_signature(PUBLIC_URL + PATH, form)))
    return made


@dataclass
class Run:
    """What one load run measured."""

    latencies: list[float]
    statuses: list[int]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def server_errors(self) -> int:
        return sum(1 for status in self.statuses if status >= 500)


async def drive(port: int, load: list[Webhook], clients: int) -> Run:
    """Post every webhook from `clients` concurrent clients; time each request."""
    queue: asyncio.Queue[Webhook] = asyncio.Queue()
    for item in load:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: list[int] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            while not queue.empty():
                item = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    PATH, data=item.form, headers={"X-Twilio-Signature": item.signature}
                )
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Run(latencies, statuses, time.perf_counter() - started)


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Run a server process until the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, process, log)
            yield
        finally:
            stop(process, 20)


@dataclass(frozen=True)
class Answered:
    """What the outbox says after the run."""

    stored: int
    handled: int
    answered_once: int
    answered_twice: int
    seconds_to_last_reply: float


def check_outbox(database_url: str, expected: int, started: float, limit: float) -> Answered:
    """Wait until every stored message is handled, then count replies per message."""
    engine = create_engine(database_url)
    query = text(
        "SELECT count(*), sum(CASE WHEN status = 'handled' THEN 1 ELSE 0 END) "
        "FROM messages WHERE direction = 'in' AND channel = 'sms'"
    )
    deadline = time.monotonic() + limit
    done_at = time.perf_counter()
    with engine.connect() as connection:
        while True:
            stored, handled = connection.execute(query).one()
            done_at = time.perf_counter()
            if (handled or 0) >= expected or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        messages = connection.execute(
            text("SELECT id FROM messages WHERE direction = 'in' AND channel = 'sms'")
        ).scalars()
        replies: dict[str, int] = {str(message_id): 0 for message_id in messages}
        for key in connection.execute(text("SELECT idempotency_key FROM outbox")).scalars():
            kind, message_id, _ = str(key).split(":", 2)
            if kind == "reply" and message_id in replies:
                replies[message_id] += 1
    engine.dispose()
    once = sum(1 for count in replies.values() if count == 1)
    twice = sum(1 for count in replies.values() if count > 1)
    return Answered(stored, handled or 0, once, twice, done_at - started)


def jobline_env(database_url: str, port: int, twilio_api: str) -> dict[str, str]:
    return {
        **os.environ,
        "JOBLINE_DATABASE_URL": database_url,
        "JOBLINE_PORT": str(port),
        "JOBLINE_PUBLIC_BASE_URL": PUBLIC_URL,
        "JOBLINE_LOAD_DEMO_DATA": "false",
        "JOBLINE_TWILIO__ACCOUNT_SID": ACCOUNT_SID,
        "JOBLINE_TWILIO__AUTH_TOKEN": AUTH_TOKEN,
        "JOBLINE_TWILIO__FROM_NUMBER": FROM_NUMBER,
        "JOBLINE_TWILIO__API_BASE_URL": twilio_api,
    }


def report(name: str, run: Run, base: Run, answered: Answered | None, n: int, clients: int) -> None:
    p50, p99 = run.percentile(50), run.percentile(99)
    b50, b99 = base.percentile(50), base.percentile(99)
    print(f"\n== {name}: {len(run.latencies)} webhooks ({n} messages), {clients} clients ==")
    print(f"webhook latency p50 {p50:7.1f} ms   (empty {b50:6.1f} ms, ratio {p50 / b50:5.1f}x)")
    print(f"webhook latency p99 {p99:7.1f} ms   (empty {b99:6.1f} ms, ratio {p99 / b99:5.1f}x)")
    print(
        f"webhooks per second {run.rate:7.0f}      (empty {base.rate:6.0f}, "
        f"ratio {base.rate / run.rate:5.1f}x slower)"
    )
    print(
        f"HTTP 5xx: {run.server_errors}; other non-200: "
        f"{sum(1 for s in run.statuses if s != 200 and s < 500)}"
    )
    if answered is not None:
        print(
            f"inbound messages answered per second {n / answered.seconds_to_last_reply:6.0f} "
            f"(all {n} answered {answered.seconds_to_last_reply:.1f} s after the first webhook)"
        )
        share = answered.answered_once / n * 100
        print(
            f"stored {answered.stored}/{n}, handled {answered.handled}, answered exactly once "
            f"{answered.answered_once} ({share:.1f}%), answered twice {answered.answered_twice}"
        )
        ok = (
            answered.stored == n
            and answered.answered_once == n
            and answered.answered_twice == 0
            and run.server_errors == 0
        )
        print(
            "target met: every message answered exactly once, none lost, no 5xx"
            if ok
            else "TARGET MISSED"
        )


def serve_empty(port: int) -> None:
    """The baseline server: parse the form and verify the signature, nothing else."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    from bot.channels.twilio_sms import EMPTY_TWIML, TwilioSignature

    signature = TwilioSignature(PUBLIC_URL, AUTH_TOKEN)

    async def webhook(request: Request) -> Response:
        if await signature.signed_form(request) is None:
            return PlainTextResponse("bad signature", status_code=403)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route(PATH, webhook, methods=["POST"]), Route("/health", health)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="messages to send")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--phones", type=int, default=500, help="distinct seekers")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the server logs and databases")
    parser.add_argument("--serve-empty", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_empty:
        serve_empty(args.serve_empty)
        return

    load = webhooks(args.n, args.phones)
    retries = load[::10]  # Twilio delivering a tenth of them again
    work = Path(tempfile.mkdtemp(prefix="jobline-bench-"))
    jobline = str(ROOT / ".venv" / "bin" / "jobline")
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()

    port = free_port()
    with server(
        [sys.executable, __file__, "--serve-empty", str(port)],
        dict(os.environ),
        port,
        work / "empty.log",
    ):
        asyncio.run(drive(port, load[:200], args.clients))  # warm-up
        base = asyncio.run(drive(port, load + retries, args.clients))
    print(
        f"baseline: empty signed webhook (same uvicorn/Starlette/TwilioSignature, separate "
        f"process), {len(load) + len(retries)} requests"
    )

    databases = [name for name in args.db.split(",") if name]
    for name in databases:
        if name == "postgresql" and not postgres_available():
            print("\n== postgresql: not reachable, skipped ==")
            continue
        with contextmanager_for(name, work) as database_url:
            port = free_port()
            env = jobline_env(database_url, port, fake.url)
            with server([jobline, "run", "--port", str(port)], env, port, work / f"{name}.log"):
                started = time.perf_counter()
                run = asyncio.run(drive(port, load + retries, args.clients))
                answered = check_outbox(database_url, args.n, started, limit=300)
            report(name, run, base, answered, args.n, args.clients)
    fake.stop()
    in_process_costs(load, work)
    if args.keep:
        print(f"logs and databases kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def in_process_costs(load: list[Webhook], work: Path) -> None:
    """Where a message's time goes, one at a time in this process (SQLite): sign, store, turn."""
    from bot.channels.base import InboundMessage
    from bot.conversation import Jobline
    from bot.database import open_database
    from bot.settings import load_settings

    settings = load_settings(database_url=f"sqlite:///{work / 'costs.db'}", load_demo_data=False)
    database = open_database(settings)
    jobline = Jobline(settings, database.sessions)
    validator = RequestValidator(AUTH_TOKEN)
    sample = load[:300]
    started = time.perf_counter()
    for item in sample:
        assert validator.validate(PUBLIC_URL + PATH, item.form, item.signature)
    signing = (time.perf_counter() - started) / len(sample) * 1000
    stored = []
    started = time.perf_counter()
    for item in sample:
        form = item.form
        stored.append(
            jobline.receive(InboundMessage("sms", form["From"], form["Body"], external_id=item.sid))
        )
    storing = (time.perf_counter() - started) / len(sample) * 1000
    started = time.perf_counter()
    for received in stored:
        jobline.take_turn(received)
    turning = (time.perf_counter() - started) / len(sample) * 1000
    database.engine.dispose()
    print(
        f"\nin-process, one at a time (SQLite): signature check {signing:.2f} ms, "
        f"store {storing:.1f} ms, turn {turning:.1f} ms per message"
    )


@contextmanager
def contextmanager_for(name: str, work: Path) -> Iterator[str]:
    if name == "sqlite":
        yield f"sqlite:///{work / 'bench.db'}"
    else:
        with postgres_schema() as url:
            yield url


if __name__ == "__main__":
    main()
