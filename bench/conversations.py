"""Registration conversations over signed Twilio webhooks against `jobline run`, beside a Rasa bot.

The workload of issue 14: 200 conversations, 50 at a time, each the 6 texts "hi", "register",
"Wang Fang", "1978", "Daoli", "jobs" from its own phone. Each text is a signed Twilio webhook; a
turn's latency runs from the webhook POST until its replies reach the local fake Twilio API (a
keep-alive HTTP server the twilio client's base URL points at). A conversation sends its next text
once the previous turn's replies have arrived, as a person would (so 50 at a time make turns/s
= 50 / the mean latency). The client and the fake share one event loop (`Harness`).

Also printed: each text's p50 and p99 under load and how many of its turns reach the overall
p99 (which texts make the tail), one conversation at a time (latency alone), the app process's
CPU per turn, and the memory of the app plus its Rasa server. The peer, a plain Rasa 3.6 bot
doing the same 6 texts (`../shared/peer/bench-rasa-fullstack.sh`), runs in the same invocation
when `.venv-rasa` exists, and the ratio Jobline / peer is printed.

    .venv/bin/python bench/conversations.py [--database sqlite|postgresql] [--no-peer]
        [--workers 1,2]   (app processes, `jobline run --workers N`; each count on a fresh
                           database, the ratio to the first count printed; >1 needs PostgreSQL)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.twilio_webhooks import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    PATH,
    PUBLIC_URL,
    contextmanager_for,
    free_port,
    jobline_env,
    wait_healthy,
)
from tests.fakes.processes import stop  # noqa: E402
from tests.fakes.twilio_lean import LeanTwilio  # noqa: E402

TEXTS = ("hi", "register", "Wang Fang", "1978", "Daoli", "jobs")
PEER = ROOT.parent / "shared" / "peer" / "bench-rasa-fullstack.sh"
TURN_LIMIT = 30.0
T = TypeVar("T")


@dataclass(frozen=True)
class Figures:
    """Throughput and latency of one run."""

    turns: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.turns / self.seconds

    def percentile(self, p: float, text: str | None = None) -> float:
        """The p-th percentile in ms, of all turns or of one text's (each conversation's
        latencies come in the order of TEXTS)."""
        latencies = self.latencies
        if text is not None:
            latencies = latencies[TEXTS.index(text) :: len(TEXTS)]
        ordered = sorted(latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def by_text(self) -> str:
        """p50 / p99 of each text's turns, and how many of all turns above the p99 it has."""
        tail = self.percentile(99)
        parts = []
        for index, text in enumerate(TEXTS):
            own = self.latencies[index :: len(TEXTS)]
            slow = sum(1 for latency in own if latency * 1000 >= tail)
            parts.append(
                f"{text!r} {self.percentile(50, text):.0f} / {self.percentile(99, text):.0f} ms"
                f" ({slow} at or over p99)"
            )
        return "; ".join(parts)


class Harness:
    """The client and the fake Twilio API on one event loop in a thread of their own.

    The client is closed-loop, as people are: a conversation posts its next text only once the
    previous turn's replies reached the fake, so with P conversations at a time throughput is P
    divided by the mean latency. Every request is built and signed before the clock starts,
    each conversation slot keeps one HTTP connection alive, and the fake (tests/fakes/
    twilio_lean.py) wakes the waiting conversation as a reply arrives. The old client (a thread
    per conversation, httpx, the threaded fake, a follower thread) cost about 6 ms of CPU per
    turn on the 2 cores the app runs on; this costs under 1.
    """

    def __init__(self) -> None:
        self.loop = new_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.arrived: dict[str, list[float]] = {}
        self.waiting: dict[str, tuple[int, asyncio.Future[None]]] = {}
        self.fake = LeanTwilio(ACCOUNT_SID, AUTH_TOKEN, self._arrived)
        self.run(self.fake.start())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the harness loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def stop(self) -> None:
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _arrived(self, form: dict[str, str], at: float) -> None:
        phone = form["To"]
        times = self.arrived.setdefault(phone, [])
        times.append(at)
        waiting = self.waiting.get(phone)
        if waiting is not None and len(times) >= waiting[0] and not waiting[1].done():
            waiting[1].set_result(None)

    async def replies(self, phone: str, count: int, limit: float) -> list[float] | None:
        """The arrival times once this phone has `count` replies; None after `limit` seconds."""
        times = self.arrived.setdefault(phone, [])
        if len(times) < count:
            done = self.loop.create_future()
            self.waiting[phone] = (count, done)
            try:
                await asyncio.wait_for(done, limit)
            except TimeoutError:
                return None
            finally:
                del self.waiting[phone]
        return times


class Webhooks:
    """One kept-alive connection to the app, posting pre-signed webhooks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, request: bytes) -> None:
        for attempt in range(3):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                assert self.reader is not None
                self.writer.write(request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (OSError, asyncio.IncompleteReadError):
                # A kept-alive connection the server closed as idle (a slow turn). Twilio sends
                # the same MessageSid again too, and Jobline stores it once.
                self.close()
                if attempt == 2:
                    raise
        assert self.reader is not None
        status = int(head.split(b" ", 2)[1])
        found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if found is None:
            raise SystemExit(f"webhook answer without a Content-Length: {head[:300]!r}")
        body = await self.reader.readexactly(int(found.group(1)))
        if status != 200:
            raise SystemExit(f"webhook answered {status}: {body[:200]!r}")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def signed(port: int, phone: str, text: str) -> bytes:
    """A webhook request as Twilio posts it, signed."""
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + PATH, form)
    body = urlencode(form).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def converse(
    harness: Harness, http: Webhooks, phone: str, requests: list[bytes], expected: list[int]
) -> list[float]:
    """One conversation; the latency of each turn until all its replies arrived."""
    latencies: list[float] = []
    for text, request, count in zip(TEXTS, requests, expected, strict=True):
        before = len(harness.arrived.get(phone, ()))
        started = time.perf_counter()
        await http.post(request)
        arrived = await harness.replies(phone, before + count, TURN_LIMIT)
        if arrived is None:
            raise SystemExit(f"no reply to {text!r} from {phone} in {TURN_LIMIT} s")
        latencies.append(arrived[before + count - 1] - started)
    return latencies


async def calibrate(harness: Harness, port: int) -> list[int]:
    """How many replies each of the 6 texts gets (one slow conversation)."""
    phone = "+8613700000000"
    counts = []
    http = Webhooks(port)
    for text in TEXTS:
        before = len(harness.arrived.get(phone, ()))
        await http.post(signed(port, phone, text))
        await asyncio.sleep(1.5)
        counts.append(len(harness.arrived.get(phone, ())) - before)
    http.close()
    if 0 in counts:
        per_text = dict(zip(TEXTS, counts, strict=True))
        raise SystemExit(f"a text got no reply in calibration: {per_text}")
    return counts


async def load(
    harness: Harness, port: int, expected: list[int], n: int, parallel: int, first: int
) -> Figures:
    """n conversations, `parallel` at a time, each slot on one kept-alive connection."""
    phones = [f"+86139{first + i:08d}" for i in range(n)]
    requests = {phone: [signed(port, phone, text) for text in TEXTS] for phone in phones}
    pending = iter(phones)
    latencies: list[float] = []

    async def slot() -> None:
        http = Webhooks(port)
        try:
            for phone in pending:
                latencies.extend(await converse(harness, http, phone, requests[phone], expected))
        finally:
            http.close()

    started = time.perf_counter()
    await asyncio.gather(*(slot() for _ in range(parallel)))
    return Figures(len(latencies), time.perf_counter() - started, latencies)


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when installed (as uvicorn picks it for the app), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def each_once(harness: Harness, expected: list[int]) -> str:
    """Whether every conversation got exactly its replies (after a pause for late doubles)."""
    time.sleep(1.0)
    want = sum(expected)
    wrong = [phone for phone, times in harness.arrived.items() if len(times) != want]
    if wrong:
        return f"{len(wrong)} phones got a wrong number of replies, e.g. {wrong[:3]}"
    return "each once"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def app_cpu(pid: int) -> dict[int, float]:
    """CPU so far of each app process (it and its worker processes), not the Rasa server."""
    found: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            if b".venv-rasa" in Path(f"/proc/{current}/cmdline").read_bytes():
                continue
            found[current] = cpu_seconds(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending += [int(child) for child in children]
    return found


def postgres_cpu() -> float:
    """CPU so far of every PostgreSQL server process on the machine (0 when none runs)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    return sum(tree_rss_parts(pid).values())


def tree_rss_parts(pid: int) -> dict[str, float]:
    """Resident memory (MB) of a process and its descendants: the app's, and Rasa's."""
    parts: dict[str, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            rasa = b".venv-rasa" in Path(f"/proc/{current}/cmdline").read_bytes()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        name = "Rasa" if rasa else "app"
        parts[name] = parts.get(name, 0.0) + (int(match.group(1)) if match else 0) / 1024
        pending += [int(child) for child in children]
    return parts


@contextmanager
def jobline(
    database_url: str, twilio_url: str, work: Path, workers: int = 1
) -> Iterator[tuple[int, int]]:
    port = free_port()
    # The fake has no sending limit; a real office would use a Messaging Service sized for this.
    env = {
        **jobline_env(database_url, port, twilio_url),
        "JOBLINE_NOTIFY__RATE_LIMITS__TWILIO": "0",
        # Its own Rasa port, so a bench never talks to another checkout's server.
        "JOBLINE_NLU__MANAGED_PORT": str(free_port()),
    }
    log = work / f"jobline-{workers}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(port, process, log)
            if workers > 1:
                wait_workers(log, workers)
            wait_nlu(port)
            yield port, process.pid
        finally:
            stop(process)


def wait_workers(log: Path, workers: int) -> None:
    """Wait until every worker process has built its app."""
    deadline = time.monotonic() + 120
    while log.read_text(errors="replace").count("worker process") < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"not all {workers} worker processes started:\n{log.read_text()}")
        time.sleep(0.2)


def wait_nlu(port: int) -> None:
    """Wait until the managed Rasa server answers (health says nlu ok)."""
    if os.environ.get("JOBLINE_NLU__MANAGED", "").lower() == "false":
        return  # run without Rasa: the workload's texts all take the fast path
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json().get("nlu") == "ok":
            return
        time.sleep(1)
    print("warning: Rasa never became ready; measuring with the keyword fast path only")


def peer(port: int) -> tuple[float, float, float, float] | None:
    """The Rasa peer's turns/s, p50, p99 and memory (MB), from its own script."""
    venv = ROOT / ".venv-rasa"
    if not venv.exists() or not PEER.exists():
        return None
    process = subprocess.Popen(
        ["bash", str(PEER), str(venv), str(port)], stdout=subprocess.PIPE, text=True
    )
    peak = 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(process.pid))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output, _ = process.communicate(timeout=1800)
    done.set()
    found = re.search(r"(\d+) turns/s .* p50 (\d+) ms, p99 (\d+) ms", output)
    if found is None:
        print(f"peer printed nothing usable:\n{output[-2000:]}")
        return None
    return float(found.group(1)), float(found.group(2)), float(found.group(3)), peak


@contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """Sample the app with py-spy (if asked) while the block runs."""
    if out is None:
        yield
        return
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise SystemExit(f"--profile needs py-spy: {spy.parent / 'pip'} install py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "-o", str(out)]
    sampler = subprocess.Popen(
        [
            *command,
            "--rate",
            os.environ.get("PROFILE_RATE", "100"),
            "--gil",
            "--threads",
            "--nonblocking",
        ]
    )
    time.sleep(1)
    try:
        yield
    finally:
        sampler.send_signal(2)
        sampler.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--no-peer", action="store_true", help="skip the Rasa peer")
    parser.add_argument(
        "--profile", type=Path, help="py-spy samples of the app under load (collapsed stacks)"
    )
    parser.add_argument(
        "--workers", default="1", help="app processes, one count or several (1,2), each measured"
    )
    args = parser.parse_args()
    counts = [int(count) for count in args.workers.split(",")]
    if args.profile is not None and counts != [1]:
        raise SystemExit("--profile samples one process: use it with --workers 1")
    measured = [measure(args, workers) for workers in counts]
    first = measured[0]
    for run in measured[1:]:
        print(
            f"ratio {run.workers} / {first.workers} processes: throughput "
            f"{run.busy.rate / first.busy.rate:.2f}x, p99 "
            f"{run.busy.percentile(99) / first.busy.percentile(99):.2f}x, CPU per turn "
            f"{run.cpu_per_turn / first.cpu_per_turn:.2f}x, memory {run.memory / first.memory:.2f}x"
        )
    if args.no_peer:
        return
    found = peer(free_port())
    if found is None:
        print("peer: not run (no .venv-rasa or no peer script)")
        return
    rate, p50, p99, peak = found
    print(f"== Rasa peer: {rate:.0f} turns/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, {peak:.0f} MB ==")
    for run in measured:
        print(
            f"ratio Jobline ({run.workers} app process{'es' if run.workers > 1 else ''}) / peer: "
            f"throughput {run.busy.rate / rate:.2f}x, p99 {run.busy.percentile(99) / p99:.2f}x, "
            f"memory {run.memory / peak:.2f}x"
        )


@dataclass(frozen=True)
class Measured:
    """One Jobline run: under load, one at a time, CPU per turn and memory."""

    workers: int
    busy: Figures
    alone: Figures
    cpu_per_turn: float
    memory: float


def measure(args: argparse.Namespace, workers: int) -> Measured:
    """The workload against `jobline run --workers N` on a fresh database; prints its figures."""
    work = Path(tempfile.mkdtemp(prefix="jobline-conversations-"))
    harness = Harness()
    database = contextmanager_for(args.database, work)
    with database as url, jobline(url, harness.fake.url, work, workers) as (port, pid):
        expected = harness.run(calibrate(harness, port))
        harness.run(load(harness, port, expected, 10, 10, first=900_000))  # warm-up
        alone = harness.run(load(harness, port, expected, 10, 1, first=800_000))
        cpu, own, server = app_cpu(pid), time.process_time(), postgres_cpu()
        with profiled(pid, args.profile):
            busy = harness.run(
                load(harness, port, expected, args.conversations, args.parallel, first=0)
            )
        used = {p: seconds - cpu.get(p, 0.0) for p, seconds in app_cpu(pid).items()}
        cpu_per_turn = sum(used.values()) / busy.turns * 1000
        harness_per_turn = (time.process_time() - own) / busy.turns * 1000
        server_per_turn = (postgres_cpu() - server) / busy.turns * 1000
        parts = tree_rss_parts(pid)
        memory = sum(parts.values())
        once = each_once(harness, expected)
    harness.stop()
    sent = len(harness.fake.sent)
    per_text = dict(zip(TEXTS, expected, strict=True))
    processes = f"{workers} app process{'es' if workers > 1 else ''}"
    # Which processes did the work (uvicorn's parent only supervises; its workers serve).
    split = ", ".join(f"{100 * s / sum(used.values()):.0f}%" for s in sorted(used.values()) if s)
    print(f"== Jobline ({args.database}, {processes}), replies per text {per_text} ==")
    print(
        f"{args.conversations} conversations, {args.parallel} at a time: {busy.rate:.0f} turns/s, "
        f"p50 {busy.percentile(50):.0f} ms, p99 {busy.percentile(99):.0f} ms"
    )
    print(f"per text, p50 / p99: {busy.by_text()}")
    print(
        f"one at a time: p50 {alone.percentile(50):.1f} ms, p99 {alone.percentile(99):.1f} ms; "
        f"app CPU {cpu_per_turn:.1f} ms per turn under load; app + Rasa memory {memory:.0f} MB "
        f"({', '.join(f'{name} {mb:.0f}' for name, mb in sorted(parts.items()))}); "
        f"{sent} texts sent, {once}; the client's and fake Twilio's CPU {harness_per_turn:.1f} "
        f"ms per turn; PostgreSQL's {server_per_turn:.1f} ms per turn; app CPU shared by its "
        f"processes {split}",
        flush=True,
    )
    return Measured(workers, busy, alone, cpu_per_turn, memory)


if __name__ == "__main__":
    main()
