"""A broadcast of 1,000 through two fake office phones (SMS Gateway for Android), each held to its
own rate, against the same broadcast through one phone, in the same run.

Prints, for each run: the time, each phone's count and its measured rate (first to last text) as a
share of its limit, the most texts one phone accepted in any one second (sends start exactly
spaced, one at a time per phone; arrivals jitter by a few ms, so limit + 1 can show), and whether
every recipient got the broadcast exactly once. Then the ratio of the two throughputs (goal:
about 2.0, the phones' rates adding up) and the highest measured share of a phone's limit (must
stay <= 1.0).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.sms_routes import sms_channel
from bot.database import open_database
from bot.settings import Settings, load_settings
from db.models import utcnow
from db.session import transaction
from notify import broadcasts
from notify.dispatcher import Dispatcher
from tests.fakes.android_gateway import PASSWORD, SIGNING_KEY, USERNAME, FakeGateway, Texted
from tests.fakes.people import add_seekers, phone

RECIPIENTS = 1_000
PER_PHONE_PER_MINUTE = 1_200.0  # 20 a second: a run of seconds, still a limit the phones reach


def settings_for(folder: Path, gateway: FakeGateway, phones: tuple[str, ...]) -> Settings:
    """SQLite in `folder`, the gateway's phones, Twilio off, no quiet hours."""
    return load_settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        load_demo_data=False,
        notify={"quiet_hours": ""},
        sms={
            "android": {
                "api_url": gateway.url,
                "username": USERNAME,
                "password": PASSWORD,
                "signing_key": SIGNING_KEY,
                "phones": [{"id": device} for device in phones],
                "per_phone_per_minute": PER_PHONE_PER_MINUTE,
            }
        },
    )


def busiest_second(texts: list[Texted]) -> int:
    """The most texts accepted within any one second."""
    times = [text.at for text in texts]
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def broadcast(phones: tuple[str, ...]) -> tuple[float, float]:
    """Send one broadcast of RECIPIENTS through these phones; (texts a second, worst rate share)."""
    gateway = FakeGateway(phones).start()
    with tempfile.TemporaryDirectory() as name:
        settings = settings_for(Path(name), gateway, phones)
        database = open_database(settings)
        add_seekers(database.sessions, RECIPIENTS)
        with transaction(database.sessions) as session:
            created = broadcasts.create(
                session, segment=broadcasts.Segment("all"), text="Job fair Monday.", now=utcnow()
            )
        broadcasts.queue(database.sessions, created.id, settings)
        channel = sms_channel(settings)
        assert channel is not None
        dispatcher = Dispatcher(database.sessions, {"sms": channel}, settings, poll_seconds=0.05)
        started = time.perf_counter()
        asyncio.run(dispatcher.run(until_idle=True))
        seconds = time.perf_counter() - started
        dispatcher.close()
        database.engine.dispose()
    gateway.stop()
    once = Counter(text.to for text in gateway.texts) == {phone(n): 1 for n in range(RECIPIENTS)}
    limit = PER_PHONE_PER_MINUTE / 60
    shares = []
    print(f"{len(phones)} phone(s): {RECIPIENTS} texts in {seconds:5.2f} s, each once: {once}")
    for device, texts in sorted(gateway.per_device().items()):
        rate = (len(texts) - 1) / (texts[-1].at - texts[0].at)
        shares.append(rate / limit)
        print(
            f"  {device}: {len(texts):4d} texts, {rate:5.1f}/s of {limit:.0f}/s "
            f"({rate / limit:4.2f} of its limit), busiest second {busiest_second(texts)}"
        )
    assert once, "a recipient got the broadcast twice or never"
    return RECIPIENTS / seconds, max(shares)


def main() -> None:
    one, one_share = broadcast(("phone-a",))
    two, two_share = broadcast(("phone-a", "phone-b"))
    print(
        f"throughput: two phones {two:5.1f}/s, one phone {one:5.1f}/s; "
        f"ratio {two / one:4.2f} (goal ~2.0); "
        f"highest share of a phone's limit {max(one_share, two_share):4.2f} (must be <= 1.00)"
    )


if __name__ == "__main__":
    main()
