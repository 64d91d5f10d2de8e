"""Dashboard pages at office scale: each page's p95 against /health, on PostgreSQL.

Fills a throw-away PostgreSQL schema with 100,000 seekers, 20,000 posts and 1,000,000 messages
(600,000 in, 400,000 out, 100,000 of those a broadcast's), 30,000 applications, 300 waiting
handoffs and a fair with 5,000 subscribers, in bulk. Then starts `jobline run` on it (no Rasa),
signs in as an admin and requests every dashboard page (each GET route the dashboard registers,
its {parameters} filled with real ids) ROUNDS times, with /health as the baseline in the same
run. Prints each page's p50 and p95 and the p95 ratio to /health's; exits 1 if any p95 is 300 ms
or more.

    .venv/bin/python bench/dashboard_pages.py [--rounds 40] [--keep SCHEMA] [--only WORD]

--keep SCHEMA fills the named schema once and keeps it: the next run with the same name skips
the fill (a few minutes) and only migrates it, so a new index can be tried on the same data.
Drop it when done: `DROP SCHEMA name CASCADE`. --only times just the pages whose path has WORD.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.database import Database, open_database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from caseworker.staff import Role, add_staff  # noqa: E402
from caseworker.tryit import new_test_seeker  # noqa: E402
from db.models import Broadcast, JobFair, JobPost, utcnow  # noqa: E402
from db.session import transaction  # noqa: E402
from reference import load_reference  # noqa: E402
from tests.fakes.people import add_seekers  # noqa: E402
from tests.fakes.postgres import (  # noqa: E402
    POSTGRES_SERVER,
    postgres_available,
    postgres_schema,
)
from tests.fakes.processes import stop  # noqa: E402

SEEKERS = 100_000
POSTS = 20_000
MESSAGES_IN = 600_000
MESSAGES_OUT = 400_000
BROADCAST_TEXTS = 100_000
APPLICATIONS = 30_000
HANDOFFS = 300
SUBSCRIBERS = 5_000
EMAIL = "bench@jobline.test"
PASSWORD = "bench password 1"
LIMIT_MS = 300.0
# Files to download, not pages: timed once each, as seekers a second.
DOWNLOADS = (".csv",)
STAGES = ("submitted", "seen", "interview", "hired", "not_selected")


def fill(database: Database) -> dict[str, int]:
    """Write the office's data in bulk; returns an id for each kind of {parameter}."""
    reference = load_reference()
    places = [place.name for place in reference.places]
    share = SEEKERS // len(places)
    for number, place in enumerate(places):
        count = share if number < len(places) - 1 else SEEKERS - share * (len(places) - 1)
        add_seekers(database.sessions, count, first=number * share, district=place)
    now = utcnow()
    categories = [category.slug for category in reference.categories]
    with transaction(database.sessions) as session:
        rows = [
            {
                "code": f"BENCH-{n:05d}",
                "title": f"Post {n}",
                "employer": f"Employer {n % 700}",
                "category": categories[n % len(categories)],
                "place": places[n % len(places)],
                "pay_yuan_month": 1500 + n % 3000,
                "hours": "Mon-Fri 8-17",
                "suits": "Anyone",
                "public_welfare": n % 5 == 0,
                "openings": 1 + n % 4,
                "status": "open" if n % 10 else "withdrawn",
                "created_at": now,
            }
            for n in range(POSTS)
        ]
        for start in range(0, POSTS, 5000):
            session.execute(insert(JobPost), rows[start : start + 5000])
        fair = JobFair(
            name="Bench Fair",
            starts_at=now + timedelta(days=10),
            venue="Expo",
            district=places[1],
            created_at=now,
        )
        broadcast = Broadcast(
            text="Job fair on Saturday.",
            segment="all",
            kind="announcement",
            send_at=now - timedelta(days=1),
            status="queued",
            recipients=BROADCAST_TEXTS,
            created_at=now - timedelta(days=1),
        )
        session.add_all([fair, broadcast])
        session.flush()
        ids = {"fair": fair.id, "broadcast": broadcast.id}
        add_staff(session, EMAIL, Role.admin, PASSWORD, now, "Bench", "en")
        ids["test_seeker"] = new_test_seeker(session, "en", now).id
    bulk_sql(database, now, ids)
    with database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return ids | first_ids(database)


def filled_ids(database: Database) -> dict[str, int]:
    """The ids of an already filled schema's fair, broadcast and test seeker, and the rest."""
    with database.engine.connect() as connection:
        ids = {
            name: int(connection.execute(text(query)).scalar_one())
            for name, query in (
                ("fair", "SELECT min(id) FROM job_fairs WHERE name = 'Bench Fair'"),
                ("broadcast", "SELECT min(id) FROM broadcasts"),
                ("test_seeker", "SELECT min(id) FROM seekers WHERE is_test"),
            )
        }
    return ids | first_ids(database)


def first_ids(database: Database) -> dict[str, int]:
    """The first id of each kind of row the pages' {parameters} take."""
    ids: dict[str, int] = {}
    with database.engine.connect() as connection:
        for name, query in (
            ("seeker", "SELECT min(id) FROM seekers"),
            ("post", "SELECT min(id) FROM job_posts"),
            ("contact", "SELECT min(id) FROM contacts"),
            ("application", "SELECT min(id) FROM applications"),
            ("handoff", "SELECT min(id) FROM handoffs"),
            ("staff", "SELECT min(id) FROM staff"),
            (
                "handoff_seeker",
                "SELECT min(c.seeker_id) FROM handoffs h JOIN contacts c ON c.id = h.contact_id",
            ),
        ):
            ids[name] = int(connection.execute(text(query)).scalar_one())
    return ids


def bulk_sql(database: Database, now: object, ids: dict[str, int]) -> None:
    """Messages, outbox rows, applications, handoffs and subscriptions, made by the server."""
    statements = [
        # Registrations spread over the last 60 days.
        "UPDATE seekers SET registered_at = :now - (id % 60) * interval '1 day', "
        "created_at = :now - (id % 60) * interval '1 day'",
        f"""INSERT INTO messages (contact_id, channel, direction, provider_id, text, status,
                segments, created_at, kind)
            SELECT c.min + g % {SEEKERS}, 'sms', 'in', 'SM' || g, 'jobs near daoli please',
                'handled', 1, :now - (g % 86400) * interval '1 minute', 'text'
            FROM generate_series(1, {MESSAGES_IN}) g, (SELECT min(id) AS min FROM contacts) c""",
        f"""INSERT INTO outbox (contact_id, channel, address, text, buttons, segments, kind,
                priority, not_before, attempts, status, provider_id, idempotency_key,
                broadcast_id, created_at, sent_at)
            SELECT c.min + g % {SEEKERS}, 'sms', '+86139' || lpad((g % {SEEKERS})::text, 8, '0'),
                'Here are 3 jobs near Daoli. Reply 1, 2 or 3.', '[]', 1,
                CASE WHEN g <= {BROADCAST_TEXTS} THEN 'broadcast' ELSE 'reply' END, 0,
                :now - (g % 86400) * interval '1 minute', 1,
                (ARRAY['delivered','delivered','delivered','sent','failed','queued'])[1 + g % 6],
                'SMout' || g, 'bench:' || g,
                CASE WHEN g <= {BROADCAST_TEXTS} THEN {ids["broadcast"]} END,
                :now - (g % 86400) * interval '1 minute', :now - (g % 86400) * interval '1 minute'
            FROM generate_series(1, {MESSAGES_OUT}) g, (SELECT min(id) AS min FROM contacts) c""",
        f"""INSERT INTO applications (reference, seeker_id, job_id, stage, created_at,
                stage_changed_at)
            SELECT 'B' || g, s.min + g % {SEEKERS}, p.min + g % {POSTS},
                (ARRAY{list(STAGES)})[1 + g % 5], :now - (g % 500) * interval '1 hour',
                :now - (g % 300) * interval '1 hour'
            FROM generate_series(1, {APPLICATIONS}) g, (SELECT min(id) AS min FROM seekers) s,
                (SELECT min(id) AS min FROM job_posts) p""",
        f"""INSERT INTO handoffs (contact_id, status, reason, opened_at)
            SELECT c.min + g * 97, 'open', 'asked for a person', :now - g * interval '7 minutes'
            FROM generate_series(1, {HANDOFFS}) g, (SELECT min(id) AS min FROM contacts) c""",
        f"""INSERT INTO fair_subscriptions (seeker_id, fair_id, attending, created_at)
            SELECT s.min + g * 13, {ids["fair"]}, g % 3 = 0, :now
            FROM generate_series(1, {SUBSCRIBERS}) g, (SELECT min(id) AS min FROM seekers) s""",
    ]
    with transaction(database.sessions) as session:
        for statement in statements:
            session.execute(text(statement), {"now": now})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def jobline_run(database_url: str, log: Path) -> Iterator[str]:
    """`jobline run` on a free port (no Rasa, no demo data) until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": database_url,
        "JOBLINE_PORT": str(port),
        "JOBLINE_LOAD_DEMO_DATA": "false",
        "JOBLINE_NLU__MANAGED": "false",
        "JOBLINE_DASHBOARD__SECRET_KEY": "bench-signing-key",
    }
    command = [str(ROOT / ".venv" / "bin" / "jobline"), "run", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"jobline run did not start:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code < 600:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            yield url
        finally:
            stop(process, 20)


# Route -> which filled id its {parameter} takes, where the parameter's name is not enough.
ROUTE_IDS = {"/handoffs/{seeker_id:int}": "handoff_seeker", "/try/{seeker_id:int}": "test_seeker"}
# Not timed: the poster needs a Telegram bot.
SKIPPED = ("/fairs/{fair_id:int}/poster",)
# Searches and filters, as a caseworker uses them.
QUERIES = (
    "/dashboard/seekers?search=Seeker%204711",
    "/dashboard/seekers?search=139000",
    "/dashboard/seekers?district=Daoli&group_4050=1&card=1",
    "/dashboard/jobs?words=post%201234",
    "/dashboard/jobs?place=Daoli&category=cleaning&status=open",
    "/dashboard/jobs?page=200",
    "/dashboard/applications?submitted=2&interview=100",
)


def pages(ids: dict[str, int]) -> list[str]:
    """Every GET page of the dashboard, its {parameters} filled with ids of the filled data."""
    from starlette.routing import Route

    from caseworker.dashboard.app import PAGES

    paths = []
    for module in PAGES:
        for route in module.routes:
            if not isinstance(route, Route) or "GET" not in (route.methods or ()):
                continue
            if route.path in ("/login", *SKIPPED) or route.path.endswith(DOWNLOADS):
                continue
            path = re.sub(
                r"\{(\w+?)(?:_id)?(?::\w+)?\}",
                lambda m, r=route.path: str(ids[ROUTE_IDS.get(r, m.group(1))]),
                route.path,
            )
            paths.append(f"/dashboard{path}")
    deep = f"/dashboard/fairs/{ids['fair']}?page=60"  # the fair's people, far down the list
    return sorted(set(paths)) + list(QUERIES) + [deep]


def sign_in(client: httpx.Client) -> None:
    page = client.get("/dashboard/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the login page"
    answer = client.post(
        "/dashboard/login", data={"email": EMAIL, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert answer.status_code == 303, answer.text


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(url: str, paths: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request for each path, interleaved so load changes hit all alike."""
    timings: dict[str, list[float]] = {path: [] for path in ["/health", *paths]}
    with httpx.Client(base_url=url, timeout=30, headers={"Accept-Language": "en"}) as client:
        sign_in(client)
        for path in ["/health", *paths]:  # warm up: first use of each query plan and template
            client.get(path)
        for _ in range(rounds):
            for path in ["/health", *paths]:
                started = time.perf_counter()
                answer = client.get(path)
                timings[path].append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    return timings


def time_export(url: str) -> float:
    """Seconds to download the whole seekers list as CSV (a file, not a page)."""
    with httpx.Client(base_url=url, timeout=300) as client:
        sign_in(client)
        started = time.perf_counter()
        answer = client.get("/dashboard/seekers/export.csv")
        seconds = time.perf_counter() - started
    rows = answer.text.count("\n") - 1
    if answer.status_code != 200 or rows != SEEKERS:
        raise SystemExit(f"export answered {answer.status_code} with {rows} rows")
    return seconds


@contextmanager
def kept_schema(name: str, server: str = POSTGRES_SERVER) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is the named schema, made if missing and kept."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", name):
        raise SystemExit(f"--keep takes a plain lower-case schema name, not {name!r}")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    admin.dispose()
    yield f"{server}?options=-csearch_path%3D{name}"


def is_filled(database: Database) -> bool:
    """Has an earlier run with --keep filled this schema?"""
    with database.engine.connect() as connection:
        query = "SELECT count(*) FROM staff WHERE email = :email"
        return bool(connection.execute(text(query), {"email": EMAIL}).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep", metavar="SCHEMA", help="fill this schema once and keep it")
    parser.add_argument("--only", metavar="WORD", help="time only the pages whose path has it")
    args = parser.parse_args()
    if not postgres_available():
        raise SystemExit("PostgreSQL is not reachable (JOBLINE_TEST_POSTGRES)")
    schema = kept_schema(args.keep) if args.keep else postgres_schema()
    with schema as database_url, tempfile.TemporaryDirectory() as folder:
        settings = load_settings(database_url=database_url, load_demo_data=False)
        database = open_database(settings)
        if args.keep and is_filled(database):
            ids = filled_ids(database)
            print(f"schema {args.keep} is filled already: not filled again")
        else:
            started = time.perf_counter()
            ids = fill(database)
            print(f"filled in {time.perf_counter() - started:.0f} s: {SEEKERS:,} seekers, "
                  f"{POSTS:,} posts, {MESSAGES_IN + MESSAGES_OUT:,} messages, "
                  f"{APPLICATIONS:,} applications")  # fmt: skip
        database.engine.dispose()
        paths = [path for path in pages(ids) if not args.only or args.only in path]
        with jobline_run(database_url, Path(folder) / "jobline.log") as url:
            timings = measure(url, paths, args.rounds)
            export_seconds = time_export(url) if not args.only else None
    base = p95(timings["/health"])
    print(f"\n{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'p95 / health':>13}")
    slow = []
    for path, samples in timings.items():
        high = p95(samples)
        print(f"{path:<44} {statistics.median(samples):8.1f} {high:8.1f} {high / base:13.1f}")
        if high >= LIMIT_MS:
            slow.append(path)
    if export_seconds is not None:
        print(f"\nexport of every seeker as CSV: {export_seconds:.1f} s, "
              f"{SEEKERS / export_seconds:,.0f} seekers/s")  # fmt: skip
    if slow:
        print(f"\nover {LIMIT_MS:.0f} ms p95: {', '.join(slow)}")
        raise SystemExit(1)
    print(f"\nevery page under {LIMIT_MS:.0f} ms p95")


if __name__ == "__main__":
    main()
