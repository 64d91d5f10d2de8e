"""Faults against a real `jobline run` on PostgreSQL: nothing lost, nothing doubled, no 5xx.

Each case starts `jobline run` (SMS through a fake Twilio, Telegram through a fake Bot API) on a
throw-away PostgreSQL schema, does its damage, and prints one line: how many texts were lost
(acknowledged but never answered, or a broadcast recipient never reached), duplicated (sent to
the provider twice), and answered 5xx. The last line is the total, which must be zero.

    .venv/bin/python bench/faults.py [--quick] [--recipients 300] [--only NAME,...]

--quick runs the cases CI runs (new numbers at once, the poison message, the NUL byte,
pg_terminate_backend under load); the others are kill -9 mid-burst and mid-broadcast
(--recipients 10000 for the big one) and Rasa killed (starts the managed Rasa server).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.postgres import postgres_available, postgres_schema  # noqa: E402
from tests.fakes.telegram_api import FakeBotApi, fake_bot_api  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

ACCOUNT_SID = "AC" + "fa017ca5" * 4
AUTH_TOKEN = "faults-auth-token"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://jobline.faults.example"
SMS_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"
SECRET = "faults-secret"
APP_NAME = "jobline-faults"
JOBLINE = str(ROOT / ".venv" / "bin" / "jobline")
SETTLE_SECONDS = 120


@dataclass
class Result:
    """What one case counted."""

    name: str
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0
    note: str = ""

    @property
    def total(self) -> int:
        return self.lost + self.duplicated + self.server_errors


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stage:
    """The fakes and the database one case runs against."""

    database_url: str
    twilio: FakeTwilio
    bot_api: FakeBotApi
    work: Path

    def env(self, port: int, **extra: str) -> dict[str, str]:
        """The environment of `jobline run` for this stage."""
        return {
            **os.environ,
            "JOBLINE_DATABASE_URL": self.database_url + f"&application_name={APP_NAME}",
            "JOBLINE_PORT": str(port),
            "JOBLINE_PUBLIC_BASE_URL": PUBLIC_URL,
            "JOBLINE_LOAD_DEMO_DATA": "false",
            "JOBLINE_TWILIO__ACCOUNT_SID": ACCOUNT_SID,
            "JOBLINE_TWILIO__AUTH_TOKEN": AUTH_TOKEN,
            "JOBLINE_TWILIO__FROM_NUMBER": FROM_NUMBER,
            "JOBLINE_TWILIO__API_BASE_URL": self.twilio.url,
            "JOBLINE_TELEGRAM__TOKEN": self.bot_api.token,
            "JOBLINE_TELEGRAM__API_BASE_URL": self.bot_api.base_url,
            "JOBLINE_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "JOBLINE_TELEGRAM__MODE": "webhook",
            "JOBLINE_NOTIFY__QUIET_HOURS": "",
            "JOBLINE_NOTIFY__RATE_LIMITS__TWILIO": "0",
            "JOBLINE_NOTIFY__LEASE_SECONDS": "2",
            "JOBLINE_NLU__MANAGED": "false",
            **extra,
        }

    def sql(self, query: str) -> list[tuple[object, ...]]:
        """Rows of one query on the stage's schema."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(query))]
        finally:
            engine.dispose()


@contextmanager
def stage() -> Iterator[Stage]:
    """A fresh schema, a fake Twilio and a fake Bot API."""
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    try:
        with fake_bot_api() as bot_api, postgres_schema() as url:
            work = Path(tempfile.mkdtemp(prefix="jobline-faults-"))
            yield Stage(url, twilio, bot_api, work)
    finally:
        twilio.stop()


class Jobline:
    """One `jobline run` process of a stage."""

    def __init__(self, where: Stage, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = where.work / f"run-{self.port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [JOBLINE, "run", "--port", str(self.port)],
                env=where.env(self.port, **extra_env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.wait_healthy()

    def wait_healthy(self, seconds: float = 240, nlu: bool = False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"jobline run exited:\n{self.log.read_text()[-3000:]}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2)
                if health.status_code < 500 and (not nlu or health.json().get("nlu") == "ok"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"jobline run did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9, as a crash would."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass(frozen=True)
class Sms:
    """One signed inbound SMS."""

    sid: str
    form: dict[str, str]
    signature: str


def sms(sender: str, body: str) -> Sms:
    """A text as Twilio posts it, signed."""
    sid = f"SM{uuid.uuid4().hex}"
    form = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + SMS_PATH, form)
    return Sms(sid, form, signature)


def post_sms(app: Jobline, message: Sms) -> int:
    """POST one text; 0 when the connection failed (the process is down)."""
    try:
        response = httpx.post(
            app.url + SMS_PATH,
            data=message.form,
            headers={"X-Twilio-Signature": message.signature},
            timeout=30,
        )
    except httpx.HTTPError:
        return 0
    return response.status_code


def post_update(app: Jobline, update: dict[str, object]) -> int:
    """POST one Telegram update."""
    try:
        response = httpx.post(
            app.url + TELEGRAM_PATH,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=30,
        )
    except httpx.HTTPError:
        return 0
    return response.status_code


def telegram_text(update_id: int, chat: int, words: str) -> dict[str, object]:
    """A private-chat text update."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1796176800,
            "chat": {"id": chat, "type": "private", "first_name": "Lei"},
            "from": {"id": chat, "is_bot": False, "first_name": "Lei"},
            "text": words,
        },
    }


def settle(where: Stage, seconds: float = SETTLE_SECONDS) -> None:
    """Wait until every stored message is answered and every outbox row is settled."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        [(waiting,)] = where.sql(
            "SELECT (SELECT count(*) FROM messages WHERE status = 'received')"
            " + (SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending'))"
        )
        if waiting == 0:
            return
        time.sleep(0.2)


def unanswered(where: Stage, provider_ids: list[str]) -> int:
    """Messages of these provider ids not stored, or with no reply that reached a provider."""
    rows = where.sql(
        "SELECT m.provider_id, count(o.id) FROM messages m LEFT JOIN outbox o"
        " ON o.idempotency_key LIKE 'reply:' || m.id || ':%' AND o.status = 'sent'"
        " GROUP BY m.provider_id"
    )
    answered = {str(pid) for pid, count in rows if int(str(count)) > 0}
    return sum(1 for pid in provider_ids if pid not in answered)


def sent_twice(where: Stage) -> int:
    """Texts the providers got more often than the outbox holds them."""
    rows = where.sql("SELECT address, text FROM outbox WHERE status = 'sent'")
    owed = Counter((str(a), str(t)) for a, t in rows)
    got = Counter((f["To"], f["Body"]) for f in where.twilio.sent)
    got.update((str(m["chat_id"]), str(m["text"])) for m in where.bot_api.sent)
    return sum(max(0, count - owed[key]) for key, count in got.items())


# Cases ------------------------------------------------------------------------------------


def new_numbers(where: Stage) -> Result:
    """5 texts at once from each of 20 numbers Jobline has never seen."""
    app = Jobline(where)
    try:
        load = [sms(f"+86139{n:08d}", f"hello {k}") for n in range(20) for k in range(5)]
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda m: post_sms(app, m), load))
        settle(where)
    finally:
        app.stop()
    return Result(
        "concurrent new numbers",
        unanswered(where, [m.sid for m in load]),
        sent_twice(where),
        sum(1 for code in codes if code >= 500 or code == 0),
    )


def poison(where: Stage) -> Result:
    """/start fair_<huge number>, then other seekers' texts: all answered."""
    app = Jobline(where)
    try:
        codes = [post_update(app, telegram_text(5001, 7001, "/start fair_" + "9" * 23))]
        load = [sms(f"+86138{n:08d}", "help") for n in range(5)]
        codes += [post_sms(app, m) for m in load]
        codes.append(post_update(app, telegram_text(5002, 7002, "jobs")))
        settle(where)
    finally:
        app.stop()
    ids = ["5001:7001:5001", "5002:7002:5002", *(m.sid for m in load)]
    return Result(
        "poison message",
        unanswered(where, ids),
        sent_twice(where),
        sum(1 for code in codes if code >= 500 or code == 0),
    )


def nul_byte(where: Stage) -> Result:
    """A NUL byte by SMS and by Telegram."""
    app = Jobline(where)
    try:
        load = [sms("+8613700000001", "he\x00lp"), sms("+8613700000002", "\x00")]
        codes = [post_sms(app, m) for m in load]
        codes.append(post_update(app, telegram_text(6001, 8001, "hel\x00p")))
        settle(where)
    finally:
        app.stop()
    return Result(
        "NUL byte",
        unanswered(where, [*(m.sid for m in load), "6001:8001:6001"]),
        sent_twice(where),
        sum(1 for code in codes if code >= 500 or code == 0),
    )


def terminate_backends(where: Stage) -> Result:
    """pg_terminate_backend on the app's connections while 200 texts arrive."""
    app = Jobline(where)
    stop = threading.Event()
    killed = 0

    def terminator() -> None:
        nonlocal killed
        while not stop.wait(1.0):
            rows = where.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE application_name = '{APP_NAME}'"
            )
            killed += len(rows)

    try:
        load = [sms(f"+86136{n % 50:08d}", "help") for n in range(200)]
        thread = threading.Thread(target=terminator)
        thread.start()
        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(lambda m: post_sms(app, m), load))
        stop.set()
        thread.join()
        settle(where, seconds=240)  # a lost turn is resumed a minute or so later
    finally:
        stop.set()
        app.stop()
    return Result(
        "pg_terminate_backend under load",
        unanswered(where, [m.sid for m in load]),
        sent_twice(where),
        sum(1 for code in codes if code >= 500 or code == 0),
        f"{killed} connections ended",
    )


def kill_mid_burst(where: Stage) -> Result:
    """kill -9 of `jobline run` while 200 texts arrive; restart; unacknowledged ones resent."""
    app = Jobline(where)
    load = [sms(f"+86135{n % 40:08d}", "help") for n in range(200)]
    codes: dict[str, int] = {}

    def send(message: Sms) -> None:
        codes[message.sid] = post_sms(app, message)
        if len(codes) == 100:
            app.kill()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, load))
    app.kill()
    again = Jobline(where)
    try:
        retried = [m for m in load if codes[m.sid] != 200]
        for message in retried:
            codes[message.sid] = post_sms(again, message)
        settle(where)
    finally:
        again.stop()
    return Result(
        "kill -9 mid-burst",
        unanswered(where, [m.sid for m in load]),
        sent_twice(where),
        sum(1 for code in codes.values() if code >= 500),
        f"{len(retried)} resent after the restart",
    )


def kill_mid_broadcast(where: Stage, recipients: int) -> Result:
    """kill -9 of `jobline run` mid-broadcast through Twilio; restart; everyone once."""
    from bot.settings import load_settings
    from db.session import make_engine, make_session_factory, transaction
    from notify import broadcasts
    from tests.fakes.people import add_seekers, phone

    engine = make_engine(where.database_url)
    sessions = make_session_factory(engine)
    app = Jobline(where)  # migrates the schema
    try:
        add_seekers(sessions, recipients)
        where.twilio.delay = 0.05
        settings = load_settings(database_url=where.database_url, notify={"quiet_hours": ""})
        with transaction(sessions) as session:
            made = broadcasts.create(
                session,
                segment=broadcasts.parse_segment("all"),
                text="Fair on Monday",
                now=app_clock(),
            )
            broadcast_id = made.id
        broadcasts.queue(sessions, broadcast_id, settings)
        deadline = time.monotonic() + 300
        while len(where.twilio.sent) < recipients // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        app.kill()
        at_kill = len(where.twilio.sent)
        app = Jobline(where)
        settle(where, seconds=600 + recipients / 20)
    finally:
        app.stop()
        where.twilio.delay = 0.0
        engine.dispose()
    got = Counter(form["To"] for form in where.twilio.sent)
    [(unknown,)] = where.sql("SELECT count(*) FROM outbox WHERE status = 'unknown'")
    missing = sum(1 for n in range(recipients) if got[phone(n)] == 0)
    return Result(
        f"kill -9 mid-broadcast ({recipients:,})",
        missing + int(str(unknown)),
        sum(count - 1 for count in got.values() if count > 1),
        0,
        f"killed after {at_kill:,} sends; {unknown} unknown",
    )


def app_clock() -> object:
    from db.models import utcnow

    return utcnow()


def rasa_killed(where: Stage) -> Result:
    """kill -9 of the managed Rasa server: every text still answered, work requests as work."""
    port = free_port()
    app = Jobline(where, JOBLINE_NLU__MANAGED="true", JOBLINE_NLU__MANAGED_PORT=str(port))
    try:
        app.wait_healthy(seconds=600, nlu=True)
        found = subprocess.run(
            ["pgrep", "-f", f"--port {port}"], capture_output=True, text=True, check=False
        )
        for pid in found.stdout.split():
            os.kill(int(pid), signal.SIGKILL)
        load = [sms(f"+86134{n:08d}", "I am looking for cleaning work") for n in range(20)]
        codes = [post_sms(app, m) for m in load]
        settle(where)
        jobs = where.sql(
            "SELECT count(*) FROM outbox WHERE text LIKE 'Jobs%' OR text LIKE '%district%'"
        )
    finally:
        app.stop()
    return Result(
        "Rasa killed",
        unanswered(where, [m.sid for m in load]),
        sent_twice(where),
        sum(1 for code in codes if code >= 500 or code == 0),
        f"{jobs[0][0]} of 20 work requests answered with work",
    )


QUICK: dict[str, Callable[[Stage], Result]] = {
    "new_numbers": new_numbers,
    "poison": poison,
    "nul": nul_byte,
    "terminate": terminate_backends,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Only the cases CI runs.")
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--only", default="", help="Comma-separated case names.")
    args = parser.parse_args()
    if not postgres_available():
        print("PostgreSQL is not reachable: the fault suite needs it", file=sys.stderr)
        return 2
    cases: dict[str, Callable[[Stage], Result]] = dict(QUICK)
    if not args.quick:
        cases["kill_burst"] = kill_mid_burst
        cases["kill_broadcast"] = lambda where: kill_mid_broadcast(where, args.recipients)
        cases["rasa"] = rasa_killed
    if args.only:
        cases = {name: case for name, case in cases.items() if name in args.only.split(",")}
    total = 0
    for case in cases.values():
        with stage() as where:
            result = case(where)
        total += result.total
        note = f"  ({result.note})" if result.note else ""
        print(
            f"{result.name:<36} lost {result.lost:>4}  duplicated {result.duplicated:>4}"
            f"  5xx {result.server_errors:>4}{note}",
            flush=True,
        )
    print(f"{'total':<36} {total}")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
