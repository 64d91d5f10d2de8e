"""The dispatcher: claims due outbox rows, sends them through their channel, records the result.

Exactly once: a row is marked `sending` (with a lease in `not_before`) in the transaction that
claims it, before any provider call (a turn claims its own replies so, and notify/express.py
sends them at once). A row still `sending` when its lease lapses belonged to a
dispatcher that died mid-send; it is reconciled, never blindly resent: a channel that can look a
message up by its outbox id (`lookup`) says whether the provider has it (then it is `sent`) or
not (then it is queued again); a channel that cannot is marked `unknown` for a person to check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar, runtime_checkable

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    SQLColumnExpression,
    Text,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, aliased, sessionmaker

from db.fast import Fast
from db.models import Contact, ContactStop, OutboxMessage, OutboxStatus, Seeker, utcnow
from db.session import light, lightly, transaction
from flows.types import Button
from notify import outbox
from notify.broadcasts import follow_rows
from notify.channel import (
    CannotLookUp,
    Channel,
    ContactSaidStop,
    HoldForSeeker,
    OutgoingMessage,
    Retry,
    SendError,
    SendResult,
    StopContact,
    Wait,
)
from notify.config import NotifyConfig
from notify.quiet import HELD_KINDS, quiet_hours

log = logging.getLogger(__name__)
T = TypeVar("T")

# Delivered by `jobline chat` itself, never by a dispatcher.
NOT_DISPATCHED = frozenset({"console"})
# Sent even to an opted-out seeker: the answer to their own message (the STOP confirmation).
ALWAYS_SENT = frozenset({"reply"})
# Which rate-limit setting each channel name follows.
RATE_SETTING = {
    "sms": "twilio",
    "telegram": "telegram",
    "console": "console",
    "wechat": "wechat",
}
MAX_BACKOFF_SECONDS = 3600.0
# Results are written at least this often, and in chunks of at most this many.
RECORD_EVERY = 0.25
RECORD_CHUNK = 250
# Without a rate limit, a claim is about this long of sending at the pace last measured, and at
# least this many rounds of the concurrent senders (before any pace is known).
CLAIM_SECONDS = 1.0
UNLIMITED_ROUNDS = 4
# The next claim is taken when one round of the senders and this long of sending (at the last
# pace) are left of this one: a full claim took 2-5 ms on the database thread (SQLite, under
# load), and taken only when the last row had started, the senders waited for it (5% of the
# time against a zero-latency provider, bench/notify_dispatch.py).
CLAIM_AHEAD_SECONDS = 0.01


class Unclear(SendError):
    """A send that failed in a way the channel did not classify: the row stays `sending` until
    its lease ends, then is reconciled like a crash's leftovers (never blindly resent)."""

    action = "unclear"


@runtime_checkable
class Reconcilable(Protocol):
    """A channel that can say whether the provider already has a message (by outbox id)."""

    async def lookup(self, message: OutgoingMessage) -> SendResult | None:
        """The provider's record of this message, or None when it never arrived."""
        ...


@runtime_checkable
class Lines(Protocol):
    """A channel that sends through several lines (office phones), each at its own rate."""

    @property
    def rate(self) -> float:
        """Messages per second over all its lines together."""
        ...

    def route(self, message: OutgoingMessage) -> str | None:
        """The line this message goes out on (None: the channel's default line)."""
        ...

    def line_rate(self, line: str) -> float:
        """Messages per second one line may send."""
        ...


@dataclass(slots=True)
class Claimed:
    """An outbox row this dispatcher owns until it records the result."""

    id: int
    channel: str
    address: str
    text: str
    buttons: tuple[Button, ...]
    kind: str
    priority: int
    attempts: int
    claimed_at: datetime | None = None
    device: str | None = None
    line: str | None = None

    def outgoing(self) -> OutgoingMessage:
        """The message as a channel sends it."""
        return OutgoingMessage(
            self.id,
            self.address,
            self.text,
            self.buttons,
            self.kind,
            self.claimed_at,
            device=self.device,
            line=self.line,
        )


@dataclass(slots=True)
class Outcome:
    """What happened to one claimed row."""

    claimed: Claimed
    provider_id: str | None = None
    error: SendError | None = None


class RateLimiter:
    """Spaces one channel's sends so it never goes over its messages per second."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0

    async def wait(self) -> None:
        """Return when the next send may start."""
        if not self.interval:
            return
        now = time.monotonic()
        at = max(now, self.next_at)
        self.next_at = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


def rates_from(settings: NotifyConfig) -> dict[str, float]:
    """Messages per second by channel name (0: no limit)."""
    limits = settings.notify.rate_limits
    return {name: float(getattr(limits, key)) for name, key in RATE_SETTING.items()}


class Dispatcher:
    """Sends due outbox rows through a mapping of channel name -> Channel."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        settings: NotifyConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
        lease_seconds: float | None = None,
        backoff_seconds: float = 2.0,
        rng: random.Random | None = None,
        restart_seconds: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.channels = {n: c for n, c in channels.items() if n not in NOT_DISPATCHED}
        # Checked once: a runtime Protocol check costs more than a send to a fast provider.
        self.lines: dict[str, Lines] = {
            n: c for n, c in self.channels.items() if isinstance(c, Lines)
        }
        self.settings = settings
        self.clock = clock
        self.batch_size = settings.notify.batch_size
        self.max_attempts = settings.notify.max_attempts
        self.rates = rates_from(settings)
        self.limiters = {name: RateLimiter(self.rates.get(name, 0.0)) for name in self.channels}
        self.line_limiters: dict[tuple[str, str], RateLimiter] = {}
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lease = timedelta(
            seconds=settings.notify.lease_seconds if lease_seconds is None else lease_seconds
        )
        self.backoff_seconds = backoff_seconds
        self.rng = rng or random.Random()
        self.quiet = quiet_hours(settings)
        with sessions() as session:
            self.postgres = session.get_bind().dialect.name == "postgresql"
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatcher-db")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.restart_seconds = restart_seconds
        self.healthy = True
        self.sent = 0
        self.pace = 0.0  # messages per second of the last batches (claim sizes follow it)
        # Rows a turn claimed and handed to notify/express.py, until their result is written:
        # ours, so never reconciled while their send may be under way.
        self.in_flight: set[int] = set()
        self._running = False

    def running_loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop delivery runs on, while it runs."""
        loop = self._loop
        if not self._running or loop is None or loop.is_closed():
            return None
        return loop

    def wake(self) -> None:
        """Send at once (a reply was just written); safe to call from any thread."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def in_db(self, work: Callable[..., T], *args: Any) -> T:
        """Run storage work on the dispatcher's one database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, work, *args)

    # Claiming ------------------------------------------------------------------------------

    def claim_size(self, channel: str) -> int:
        """About one second of sending at the channel's rate, so replies never wait long.

        What is claimed is `sending` under a lease until recorded; a crash strands at most
        this many rows. Without a rate limit, one second at the pace the last batches went
        (a few rounds of the concurrent senders before any batch went).
        """
        sender = self.lines.get(channel)
        rate = sender.rate if sender is not None else self.rates.get(channel, 0.0)
        if rate <= 0:
            least = self.concurrency * UNLIMITED_ROUNDS
            return max(1, min(self.batch_size, max(least, int(self.pace * CLAIM_SECONDS))))
        return max(1, min(self.batch_size, int(rate)))

    def claim(self) -> list[Claimed]:
        """Take due rows (replies first), skip opted-out seekers and contacts, mark the rest."""
        if not self.channels:
            return []
        now = self.clock()
        claim = _claim_statement(self.quiet.is_quiet(now), self.postgres)
        given: dict[str, Any] = {"b_now": now, "b_lease": now + self.lease}
        claimed: list[Claimed] = []
        with light(self.engine) as connection:
            for channel in self.channels:
                given["b_channel"], given["b_limit"] = channel, self.claim_size(channel)
                claimed.extend(
                    Claimed(
                        row.id,
                        channel,
                        row.address,
                        row.text,
                        _buttons(row.buttons),
                        row.kind,
                        row.priority,
                        row.attempts,
                        device=row.device,
                    )
                    for row in claim.run(connection, given).rows
                    if row.status == OutboxStatus.SENDING
                )
        claimed.sort(key=lambda row: (row.priority, row.id))
        return claimed

    # Sending -------------------------------------------------------------------------------

    async def send_all(
        self,
        claimed: Sequence[Claimed],
        on_outcome: Callable[[Outcome], None] | None = None,
        nearly_done: asyncio.Event | None = None,
        ahead: int = 0,
    ) -> list[Outcome]:
        """Send claimed rows in order, each channel within its rate and concurrency.

        nearly_done is set once at most `ahead` rows are left to start (0: the last has begun).
        """
        outcomes: list[Outcome] = []
        left = len(claimed)
        lines: dict[tuple[str, str | None], deque[Claimed]] = {}
        for row in claimed:
            routed = self.lines.get(row.channel)
            if routed is not None:
                row.line = routed.route(row.outgoing())
            lines.setdefault((row.channel, row.line), deque()).append(row)

        async def sender(line: deque[Claimed], limiter: RateLimiter) -> None:
            nonlocal left
            while line:
                row = line.popleft()
                if limiter.interval:
                    await limiter.wait()
                left -= 1
                if left <= ahead and nearly_done is not None:
                    nearly_done.set()
                outcome = await self.send_one(row)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)

        # One send at a time on a line (an office phone): its texts reach it spaced, not bunched.
        await asyncio.gather(
            *(
                sender(line, self.limiter(*key))
                for key, line in lines.items()
                for _ in range(min(1 if key[1] else self.concurrency, len(line)))
            )
        )
        return outcomes

    def limiter(self, channel: str, line: str | None) -> RateLimiter:
        """The rate limiter of a channel, or of one of its lines (an office phone)."""
        sender = self.lines.get(channel)
        if line is None or sender is None:
            return self.limiters[channel]
        key = (channel, line)
        if key not in self.line_limiters:
            self.line_limiters[key] = RateLimiter(sender.line_rate(line))
        return self.line_limiters[key]

    def send_and_record(
        self, claimed: Sequence[Claimed], nearly_done: asyncio.Event | None = None, ahead: int = 0
    ) -> asyncio.Future[list[Any]]:
        """Send a batch, writing results as they come so status callbacks find their rows.

        The returned future ends when the sends are done; it holds the result writes, still
        running on the database thread, for the caller to await before it needs them.
        """
        buffer: list[Outcome] = []
        writes: list[asyncio.Future[None]] = []
        flushed = time.monotonic()

        def flush() -> None:
            nonlocal buffer, flushed
            if buffer:
                writes.append(asyncio.ensure_future(self.in_db(self.record, buffer)))
                buffer = []
            flushed = time.monotonic()

        def collected(outcome: Outcome) -> None:
            buffer.append(outcome)
            if len(buffer) >= RECORD_CHUNK or time.monotonic() - flushed >= RECORD_EVERY:
                flush()

        async def go() -> list[Any]:
            try:
                await self.send_all(claimed, collected, nearly_done, ahead)
            finally:
                flush()
            return writes

        return asyncio.ensure_future(go())

    async def send_one(self, row: Claimed) -> Outcome:
        """One provider call; a failure the channel did not classify is left to reconcile."""
        try:
            result = await self.channels[row.channel].send(row.outgoing())
        except SendError as error:
            return Outcome(row, error=error)
        except Exception as error:  # unclassified: the provider may or may not have it
            log.warning("send of outbox %d ended unclear: %r", row.id, error)
            reason = f"unclear, left to reconcile: {type(error).__name__}: {error}"
            return Outcome(row, error=Unclear(reason))
        return Outcome(row, provider_id=result.provider_id)

    # Recording -----------------------------------------------------------------------------

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        """Exponential backoff with jitter; never sooner than the provider asked."""
        base = min(MAX_BACKOFF_SECONDS, self.backoff_seconds * 2 ** max(0, attempts - 1))
        delay = base * self.rng.uniform(0.5, 1.5)
        return timedelta(seconds=max(delay, retry_after or 0.0))

    def record(self, outcomes: Sequence[Outcome]) -> None:
        """Write every result in one transaction (only rows still `sending` change)."""
        if not outcomes:
            return
        now = self.clock()
        sent, changes = plan(outcomes, now, self.max_attempts, self.backoff, self.backoff_seconds)
        # Every commit waits for PostgreSQL's WAL flush. The rule for `SET LOCAL
        # synchronous_commit = off`: only a write whose loss in a database crash loses nothing a
        # seeker or provider was promised. Never the store of an inbound message (the provider
        # was answered) nor a turn (it claims its replies `sending` before they go out). These
        # results qualify (a lost one leaves its row `sending`, reconciled when the lease ends, as
        # after any crash), but they commit at most every RECORD_EVERY, off any turn's path, and
        # a commit took 0.3 ms here (bench/turn_trips.py): so they stay synchronous too.
        with lightly(self.sessions) as session:
            outbox.write(session, changes, now, sent)
        self.sent += len(sent)

    # Reconciling ---------------------------------------------------------------------------

    def orphans(self, everything: bool) -> list[Claimed]:
        """Rows left `sending` by a dispatcher that stopped (all of them when we are alone)."""
        table = OutboxMessage
        query = select(table).where(
            table.status == OutboxStatus.SENDING, table.channel.in_(list(self.channels))
        )
        if not everything:
            query = query.where(table.not_before < self.clock())
        with self.sessions() as session:
            return [
                Claimed(
                    r.id,
                    r.channel,
                    r.address,
                    r.text,
                    outbox.buttons_of(r.buttons or ()),
                    r.kind,
                    r.priority,
                    r.attempts,
                    # The lease ends `lease` after the claim: the provider cannot have it sooner.
                    claimed_at=r.not_before - self.lease,
                )
                for r in session.scalars(query.order_by(table.id))
            ]

    async def reconcile(self, everything: bool = False) -> int:
        """Settle orphaned `sending` rows by asking the provider; returns how many settled."""
        if not self.channels:
            return 0
        rows = await self.in_db(self.orphans, everything)
        rows = [row for row in rows if row.id not in self.in_flight]
        if not rows:
            return 0
        found: dict[int, SendResult | None] = {}
        asked: list[int] = []
        for row in rows:
            channel = self.channels[row.channel]
            if isinstance(channel, Reconcilable):
                try:
                    found[row.id] = await channel.lookup(row.outgoing())
                except CannotLookUp:  # this message cannot be looked up: a person checks it
                    pass
                except Exception as error:  # the provider cannot say now: ask again later
                    log.warning("lookup of outbox %d failed: %r", row.id, error)
                    continue
            asked.append(row.id)
        changes = plan_settle(asked, found, self.clock())
        await self.in_db(self._settle, changes)
        settled = Counter(change.status for change in changes)
        log.info(
            "reconciled %d rows: %d already sent, %d queued again, %d unknown",
            len(rows),
            settled[OutboxStatus.SENT],
            settled[OutboxStatus.QUEUED],
            settled[OutboxStatus.UNKNOWN],
        )
        return len(rows)

    def _settle(self, changes: list[outbox.Change]) -> None:
        with transaction(self.sessions) as session:
            outbox.write(session, changes, self.clock())

    def follow_broadcasts(self) -> None:
        """Broadcasts whose rows are all settled are `done` (each time the outbox is idle)."""
        with transaction(self.sessions) as session:
            follow_rows(session)
        self.apply_early_reports()

    def apply_early_reports(self) -> int:
        """Delivery reports kept while their send was being recorded by another process."""
        with transaction(self.sessions) as session:
            return outbox.apply_early_reports(session, self.clock())

    # Running -------------------------------------------------------------------------------

    def waiting(self) -> int:
        """Rows still to send or settle on our channels (any due time)."""
        table = OutboxMessage
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(
                        table.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
                        table.channel.in_(list(self.channels)),
                    )
                )
                or 0
            )

    async def run(self, stop: asyncio.Event | None = None, until_idle: bool = False) -> None:
        """Claim, send and record until stopped (or, with until_idle, until nothing is left).

        A storage or channel failure is logged and the work starts again after a pause; rows it
        left `sending` are reconciled like a crash's.
        """
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._running = True
        try:
            while True:
                try:
                    await self._work(stop, until_idle)
                    return
                except Exception:  # delivery must outlive a dropped connection or a locked file
                    self.healthy = False
                    log.exception("delivery failed; starting again in %.0f s", self.restart_seconds)
                    await asyncio.sleep(self.restart_seconds)
        finally:
            self._running = False

    async def _work(self, stop: asyncio.Event | None, until_idle: bool) -> None:
        await self.reconcile(everything=not self.postgres)
        last_reconcile = time.monotonic()
        pending: list[asyncio.Future[Any]] = []
        recording: list[asyncio.Future[Any]] = []
        claimed = await self.in_db(self.claim)
        self.healthy = True
        try:
            while stop is None or not stop.is_set():
                if time.monotonic() - last_reconcile > self.lease.total_seconds() / 2:
                    await self.reconcile()  # rows another dispatcher left when it died
                    await self.in_db(self.apply_early_reports)
                    last_reconcile = time.monotonic()
                if not claimed:
                    await asyncio.gather(*recording)
                    recording = []
                    await self.in_db(self.follow_broadcasts)
                    if until_idle and await self.in_db(self.waiting) == 0:
                        return
                    await self._pause(stop)
                    claimed = await self.in_db(self.claim)
                    continue
                nearly_done = asyncio.Event()
                ahead = self.concurrency + int(self.pace * CLAIM_AHEAD_SECONDS)
                sending = self.send_and_record(claimed, nearly_done, ahead)
                pending = [sending]
                started = time.monotonic()
                waiter: asyncio.Future[Any] = asyncio.ensure_future(nearly_done.wait())
                await asyncio.wait((sending, waiter), return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                # The next claim is taken while the last sends of this one are out, so the
                # senders never wait for the database; a crash strands one claim (about a
                # second of sending) and those last few sends, never two whole claims.
                following = asyncio.ensure_future(self.in_db(self.claim))
                pending.append(following)
                writes = await sending
                self._paced(len(claimed), time.monotonic() - started)
                await asyncio.gather(*recording)
                recording = writes
                claimed = await following
                pending = []
        finally:
            done = await asyncio.gather(*pending, *recording, return_exceptions=True)
            writes = [item for r in done if isinstance(r, list) for item in r]
            await asyncio.gather(
                *(w for w in writes if isinstance(w, asyncio.Future)), return_exceptions=True
            )

    def _paced(self, count: int, seconds: float) -> None:
        """Follow how fast a batch went (a batch that did not fill its claim says little)."""
        if seconds <= 0:
            return
        measured = count / seconds
        self.pace = measured if not self.pace else 0.5 * self.pace + 0.5 * measured

    async def _pause(self, stop: asyncio.Event | None) -> None:
        assert self._wake is not None
        if self._wake.is_set():
            self._wake.clear()
            return
        waits = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        _, pending = await asyncio.wait(
            waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        self._wake.clear()

    def close(self) -> None:
        """Release the database thread."""
        self._db.shutdown(wait=True)


class Plan(NamedTuple):
    """What a chunk of send results does: the rows the provider took, the others' changes."""

    sent: list[tuple[int, str | None]]  # (outbox id, provider id)
    changes: list[outbox.Change]


def plan(
    outcomes: Sequence[Outcome],
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int, float | None], timedelta],
    pause: float = 2.0,
) -> Plan:
    """What each send's result does to its row: sent, queued again, failed, or left to settle."""
    sent: list[tuple[int, str | None]] = []
    changes: list[outbox.Change] = []
    for outcome in outcomes:
        row, error = outcome.claimed, outcome.error
        if error is None:
            sent.append((row.id, outcome.provider_id))
            continue
        reason = error.reason[:500]
        match error:
            case Unclear():
                changes.append(outbox.Change(row.id, error=reason))
            case Wait():
                due = now + timedelta(seconds=error.retry_after or pause)
                changes.append(
                    outbox.Change(
                        row.id, OutboxStatus.QUEUED, error=reason, not_before=due, uncount=True
                    )
                )
            case Retry() if row.attempts < max_attempts:
                due = now + backoff(row.attempts, error.retry_after)
                changes.append(
                    outbox.Change(row.id, OutboxStatus.QUEUED, error=reason, not_before=due)
                )
            case HoldForSeeker():
                changes.append(outbox.Change(row.id, OutboxStatus.HELD, error=reason))
            case StopContact():
                why = (
                    ContactStop.STOP if isinstance(error, ContactSaidStop) else ContactStop.BLOCKED
                )
                changes.append(
                    outbox.Change(row.id, OutboxStatus.FAILED, error=reason, stop_contact=why)
                )
            case _:
                changes.append(outbox.Change(row.id, OutboxStatus.FAILED, error=reason))
    return Plan(sent, changes)


def plan_settle(
    ids: Sequence[int], found: Mapping[int, SendResult | None], now: datetime
) -> list[outbox.Change]:
    """Rows left `sending`: sent when the provider has them, queued again when it has not,
    unknown when the channel cannot say (`found` holds only the rows it could ask about)."""
    changes: list[outbox.Change] = []
    for row_id in ids:
        if row_id not in found:
            error = "stopped during send; not resent"
            changes.append(outbox.Change(row_id, OutboxStatus.UNKNOWN, error=error))
            continue
        result = found[row_id]
        if result is None:
            changes.append(outbox.Change(row_id, OutboxStatus.QUEUED, not_before=now))
        else:
            changes.append(
                outbox.Change(
                    row_id, OutboxStatus.SENT, provider_id=result.provider_id, sent_at=now
                )
            )
    return changes


def _buttons(raw: str | list[Any] | None) -> tuple[Button, ...]:
    """Buttons from their stored JSON (psycopg hands JSON over already decoded)."""
    if not raw or raw == "[]":
        return ()
    return outbox.buttons_of(json.loads(raw) if isinstance(raw, str) else raw)


# A claim is one UPDATE ... RETURNING on the DB-API cursor (db/fast.py): through SQLAlchemy's ORM
# execution a claim cost as much as the send to a provider that answers at once, and as a SELECT
# then an UPDATE a row (executemany) 10 us a row against 7.5 (SQLite, bench/notify_dispatch.py).
_CLAIMS: dict[tuple[bool, bool], Fast] = {}


def _sendable(kind: SQLColumnExpression[str]) -> ColumnElement[int]:
    """1 when a row of this kind may be sent (its contact and seeker joined), else 0: opted out
    (the seeker, or this contact on its own) gets only answers to its own words; a contact its
    provider cannot reach (blocked) gets nothing."""
    return case(
        (Contact.stopped == ContactStop.BLOCKED, 0),
        (or_(*(kind == always for always in sorted(ALWAYS_SENT))), 1),
        (or_(Seeker.opted_out, Contact.stopped.is_not(None)), 0),
        else_=1,
    )


def _claim_statement(quiet: bool, postgres: bool) -> Fast:
    """Take one channel's due rows, replies first (during quiet hours, none that waits): the
    ones that may be sent become `sending`, leased, one more attempt; the rest are skipped.
    Returns every row it changed, with its status and its contact's device."""
    found = _CLAIMS.get((quiet, postgres))
    if found is not None:
        return found
    table, queued = OutboxMessage, aliased(OutboxMessage, name="queued")
    due = (
        select(queued.id, _sendable(queued.kind).label("ok"))
        .join(Contact, Contact.id == queued.contact_id)
        .join(Seeker, Seeker.id == Contact.seeker_id)
        .where(
            queued.status == OutboxStatus.QUEUED,
            queued.channel == bindparam("b_channel"),
            queued.not_before <= bindparam("b_now"),
        )
        .order_by(queued.priority, queued.not_before, queued.id)
        .limit(bindparam("b_limit", type_=Integer))
    )
    if quiet:  # one condition a kind, not NOT IN: a Fast statement takes no expanding list
        due = due.where(*(queued.kind != kind for kind in sorted(HELD_KINDS)))
    if postgres:
        due = due.with_for_update(skip_locked=True, of=queued)
    taken = due.subquery("due")
    sending = taken.c.ok == 1
    # SQLite's RETURNING may not name the FROM's tables: the device is looked up by the row
    # (named in full: SQLAlchemy leaves a column of RETURNING unqualified on SQLite).
    reached = aliased(Contact, name="reached")
    row_contact: ColumnElement[int] = literal_column(
        f"{table.__tablename__}.{table.contact_id.key}"
    )
    device = select(reached.device).where(reached.id == row_contact)
    statement = (
        update(table)
        .where(table.id == taken.c.id)
        .values(
            status=case((sending, OutboxStatus.SENDING), else_=OutboxStatus.SKIPPED_OPTED_OUT),
            attempts=table.attempts + taken.c.ok,
            not_before=case((sending, bindparam("b_lease")), else_=table.not_before),
        )
        .returning(
            table.id,
            table.address,
            table.text,
            # Raw JSON: most rows have no buttons, and decoding each one costs more.
            type_coerce(table.buttons, Text).label("buttons"),
            table.kind,
            table.priority,
            table.attempts,
            table.status,
            device.scalar_subquery().label("device"),
        )
    )
    found = _CLAIMS[(quiet, postgres)] = Fast(statement)
    return found
