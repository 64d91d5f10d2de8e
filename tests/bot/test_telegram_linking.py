"""One seeker, two channels: a chat that shares the seeker's own number continues their story."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.database import Database
from bot.settings import Settings
from db.models import Application, Contact, FairSubscription, JobFair, JobPost
from db.models import Seeker as SeekerRow
from tests.bot.telegram_chat import CHAT, Telegram, contact, telegram_settings, text
from tests.conftest import Seeker
from tests.fakes.seekers import HAPPY_PATH
from tests.fakes.telegram_api import FakeBotApi

pytest_plugins = ["tests.bot.telegram_fixtures"]
PHONE = "+8613800000001"


@pytest.fixture
def settings(database_url: str, bot_api: FakeBotApi) -> Settings:
    """The Telegram channel on, in webhook mode, against the fake Bot API."""
    return telegram_settings(database_url, bot_api, mode="webhook")


@pytest.fixture
def seeker(web: TestClient) -> Seeker:
    """The SMS side texts the running app's Jobline: one per-contact lock for both channels
    (the app's resume-on-start service may take a turn at the same moment)."""
    return Seeker(web.app.state.runtime.jobline)  # type: ignore[attr-defined]


def seekers(database: Database) -> list[SeekerRow]:
    with database.sessions() as session:
        return list(session.scalars(select(SeekerRow).order_by(SeekerRow.id)))


def telegram_seeker(database: Database) -> int:
    with database.sessions() as session:
        found = session.scalar(
            select(Contact.seeker_id).where(
                Contact.channel == "telegram", Contact.address == str(CHAT)
            )
        )
        assert found is not None
        return found


def test_registered_by_sms_continues_on_telegram(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, expected in HAPPY_PATH:
        assert expected in seeker.says(sent), sent
    # On Telegram the chat is a stranger until the seeker taps Share my phone number.
    assert "Hello, I am Jobline" in telegram.says(text("/start"))
    answer = telegram.says(contact("8613800000001", user_id=CHAT))
    assert answer.startswith("Thank you, Wang Lei. This chat is now linked")
    assert "Jobline menu" in answer
    assert "Please check: Wang Lei, born 1972, man, Daoli" in telegram.says(text("register"))
    [only] = seekers(database)
    assert only.phone == PHONE
    assert telegram_seeker(database) == only.id
    # Back on SMS it is still the same person.
    assert "Please check: Wang Lei" in seeker.says("register")


def test_contact_with_a_plus_and_spaces_links_too(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.says(sent)
    assert "Wang Lei" in telegram.says(contact("+86 138 0000 0001", user_id=CHAT))
    assert len(seekers(database)) == 1


def test_applications_and_fair_alerts_follow_the_seeker(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.says(sent)
    with database.sessions() as session, session.begin():
        owner = session.scalar(select(SeekerRow).where(SeekerRow.phone == PHONE))
        assert owner is not None
        post = session.scalars(select(JobPost).order_by(JobPost.id)).first()
        fair = session.scalars(select(JobFair)).first()
        assert post is not None and fair is not None
        session.add(Application(reference="K7MPQ2", seeker_id=owner.id, job_id=post.id))
        session.add(FairSubscription(seeker_id=owner.id, fair_id=fair.id))
    telegram.says(text("hello"))
    telegram.says(contact("8613800000001", user_id=CHAT))
    with database.sessions() as session:
        seeker_id = telegram_seeker(database)
        assert session.scalar(select(Application.seeker_id)) == seeker_id
        assert session.scalar(select(FairSubscription.seeker_id)) == seeker_id


def test_registered_on_telegram_then_texts_by_sms(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    telegram.says(text("/start"))
    for sent, expected in HAPPY_PATH:
        assert expected in telegram.says(text(sent)), sent
    answer = telegram.says(contact("8613800000001", user_id=CHAT))
    assert answer.startswith("Thank you, Wang Lei.")
    assert "Please check: Wang Lei" in seeker.says("register")
    assert len(seekers(database)) == 1


def test_sms_seeker_who_never_registered_joins_the_telegram_profile(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    seeker.says("hello")
    for sent, _ in HAPPY_PATH:
        telegram.says(text(sent))
    telegram.says(contact("8613800000001", user_id=CHAT))
    [only] = seekers(database)
    assert (only.phone, only.name) == (PHONE, "Wang Lei")
    assert "Please check: Wang Lei" in seeker.says("register")


def test_new_seeker_sharing_a_number_is_offered_registration(
    telegram: Telegram, database: Database
) -> None:
    answer = telegram.says(contact("8613800000002", user_id=CHAT))
    assert answer.startswith("Thank you, we saved your phone number. Reply 1 to register")
    assert "Your name and birth year?" in telegram.says(text("1 Register"))
    [only] = seekers(database)
    assert only.phone == "+8613800000002"


def test_sharing_again_changes_nothing(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.says(sent)
    telegram.says(contact("8613800000001", user_id=CHAT))
    assert "Thank you, Wang Lei" in telegram.says(contact("8613800000001", user_id=CHAT))
    assert len(seekers(database)) == 1


def test_number_of_another_registered_seeker_is_not_taken_over(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.says(sent)
    for sent, _ in HAPPY_PATH:
        telegram.says(text(sent.replace("wang lei", "li na")))
    answer = telegram.says(contact("8613800000001", user_id=CHAT))
    assert "on another Jobline profile" in answer
    with database.sessions() as session:
        names = dict(session.execute(select(SeekerRow.name, SeekerRow.phone)).all())
        assert names == {"Wang Lei": PHONE, "Li Na": None}
        assert session.scalar(select(func.count(Contact.id))) == 2


def test_someone_elses_number_never_links(
    seeker: Seeker, telegram: Telegram, database: Database
) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.says(sent)
    answer = telegram.says(contact("8613800000001", user_id=CHAT + 7))
    assert "share your own phone number" in answer
    assert "Your name and birth year?" in telegram.says(text("register"))
    assert len(seekers(database)) == 2
