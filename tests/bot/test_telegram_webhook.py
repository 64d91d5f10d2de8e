"""The Telegram webhook, as transcripts: what Telegram posts, what Jobline queues to answer."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.channels.telegram import TelegramChannel
from bot.database import Database
from bot.settings import Settings
from db.models import JobFair, Message, OutboxMessage
from flows.registration import ANSWER_BUTTONS, WORK_BUTTONS
from flows.share_buttons import SHARE_PHONE
from flows.types import buttons
from notify.outbox import buttons_of
from tests.bot.telegram_chat import (
    CHAT,
    SECRET,
    Telegram,
    contact,
    location,
    photo,
    sticker,
    telegram_settings,
    text,
)
from tests.fakes.telegram_api import FakeBotApi


def labels(row: OutboxMessage) -> list[str]:
    """The words on an outbox row's buttons."""
    return [button.label for button in buttons_of(row.buttons)]


pytest_plugins = ["tests.bot.telegram_fixtures"]


@pytest.fixture
def settings(database_url: str, bot_api: FakeBotApi) -> Settings:
    """The Telegram channel on, in webhook mode, against the fake Bot API."""
    return telegram_settings(database_url, bot_api, mode="webhook")


def stored_messages(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count(Message.id))) or 0


def test_start_sets_the_webhook_with_its_secret(telegram: Telegram, bot_api: FakeBotApi) -> None:
    deadline = time.monotonic() + 20
    while not bot_api.webhook and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bot_api.webhook["url"] == "https://jobline.example/webhooks/telegram"
    assert bot_api.webhook["secret_token"] == SECRET
    assert telegram.client.get("/health").json()["telegram"] == "ok"
    assert bot_api.calls[:2] == ["getMe", "setWebhook"]
    runtime = telegram.client.app.state.runtime  # type: ignore[attr-defined]
    assert isinstance(runtime.channels["telegram"], TelegramChannel)


def test_start_greets_and_offers_registration_with_big_buttons(telegram: Telegram) -> None:
    assert telegram.post(text("/start")) == 200
    [welcome] = telegram.replies()
    assert welcome.text.startswith("Hello, I am Jobline.")
    assert welcome.address == str(CHAT)
    assert buttons_of(welcome.buttons) == buttons("1 Register", SHARE_PHONE, "MENU")
    assert "Your name and birth year?" in telegram.says(text("1 Register"))
    assert telegram.replies() == []


# What the seeker taps or types, and the buttons under Jobline's next question.
REGISTRATION_BUTTONS = [
    ("register", []),
    ("Wang Lei", []),
    ("1972", ["1 Man", "2 Woman"]),
    ("1 Man", []),
    ("Daoli", list(WORK_BUTTONS)),
    ("4 Cooking", ["1 Yes", "2 No"]),
    ("2 No", ["1 Save", "2 Change"]),
    ("2 Change", list(ANSWER_BUTTONS)),
    ("4 District", []),
    ("Nangang", ["1 Save", "2 Change"]),
    ("1 Save", ["1 Jobs near you", "MENU"]),
]


def test_every_question_has_its_buttons_and_free_text_has_none(telegram: Telegram) -> None:
    for sent, shown in REGISTRATION_BUTTONS:
        assert telegram.post(text(sent)) == 200
        assert labels(telegram.replies()[-1]) == shown, sent
    with telegram.database.sessions() as session:
        from db.models import Seeker

        row = session.scalars(select(Seeker)).one()
        assert (row.interests, row.district, row.alerts) == (["cooking"], "Nangang", False)


def test_name_question_removes_buttons(telegram: Telegram) -> None:
    telegram.says(text("register"))
    with telegram.database.sessions() as session:
        asked = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[-1]
    assert "Your name and birth year?" in asked.text
    assert labels(asked) == []


def test_wrong_or_missing_secret_is_403_and_stores_nothing(
    telegram: Telegram, database: Database
) -> None:
    for secret in (None, "", "wrong", SECRET + "x", SECRET.lower()):
        assert telegram.post(text("hello"), secret=secret) == 403, secret
    assert stored_messages(database) == 0


MALFORMED = [b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "x"}', b"", b"\xff"]


def test_malformed_body_is_400(web: TestClient, database: Database) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    for body in MALFORMED:
        response = web.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 400, body
    assert stored_messages(database) == 0


def test_update_that_is_not_a_telegram_update_is_400(telegram: Telegram) -> None:
    assert telegram.post({"update_id": 1, "message": {"text": "no chat"}}) == 400


def test_duplicate_update_is_answered_once(telegram: Telegram, database: Database) -> None:
    update = {"update_id": 777, **text("register")}
    assert telegram.post(update) == 200
    assert telegram.post(update) == 200
    assert stored_messages(database) == 1
    assert len(telegram.replies()) == 1


def test_an_update_id_used_again_for_a_new_message_is_answered(
    telegram: Telegram, database: Database
) -> None:
    # After a week without updates Telegram may pick update ids at random again.
    assert telegram.post({"update_id": 555, **text("register")}) == 200
    assert telegram.post({"update_id": 555, **text("help")}) == 200
    assert stored_messages(database) == 2
    assert len(telegram.replies()) == 2


def test_edited_message_is_not_answered_again(telegram: Telegram, database: Database) -> None:
    edited = {"edited_message": {**text("registr")["message"], "edit_date": 1796176900}}
    assert telegram.post(edited) == 200
    assert stored_messages(database) == 0
    assert telegram.replies() == []


def test_sticker_or_photo_gets_a_polite_please_send_text(telegram: Telegram) -> None:
    for update in (sticker(), photo(), photo(caption="my CV")):
        assert "I can only read text" in telegram.says(update)


def test_someone_elses_contact_is_refused(telegram: Telegram, database: Database) -> None:
    answer = telegram.says(contact("8613800000009", user_id=CHAT + 1))
    assert "share your own phone number" in answer
    assert telegram.says(contact("8613800000009", user_id=None)).startswith("Sorry, please share")
    with database.sessions() as session:
        from db.models import Seeker

        assert session.scalar(select(Seeker).where(Seeker.phone == "+8613800000009")) is None


def test_location_answers_with_the_nearest_jobs(telegram: Telegram) -> None:
    # A few streets from Daoli: Daoli posts first, then Nangang ones (about 4 km east).
    assert telegram.post(location(45.7570, 126.6180)) == 200
    [listing] = telegram.replies()
    lines = listing.text.splitlines()
    assert lines[0] == "Jobs nearest you:"
    assert [line[:2] for line in lines[1:4]] == ["1 ", "2 ", "3 "]
    assert all(", Daoli, 0.1 km, " in line for line in lines[1:4])
    assert "yuan a month" in lines[1]
    assert lines[-1] == "Reply a number to see a job, MORE for more, or MENU."
    assert labels(listing) == ["1", "2", "3", "MORE", "Send my location"]
    # The list is the jobs list: a number opens a job, MORE pages on.
    details = telegram.says(text("2"))
    assert details.startswith(lines[2][2:].split(",")[0])
    assert "Reply 1 to apply" in details
    assert "Your name and birth year?" in telegram.says(text("1"))


def test_more_after_a_location_goes_further_away(telegram: Telegram) -> None:
    telegram.says(location(45.7570, 126.6180))
    more = telegram.says(text("MORE"))
    assert "(4-6 of" in more


def test_location_far_from_every_post_still_lists_the_nearest(telegram: Telegram) -> None:
    # Mudanjiang city centre: the Mudanjiang road cleaner post is nearest.
    answer = telegram.says(location(44.5514, 129.6332))
    assert answer.splitlines()[1].startswith("1 Road cleaner, Mudanjiang")


def test_groups_and_channels_are_ignored(telegram: Telegram, database: Database) -> None:
    for kind in ("group", "supergroup", "channel"):
        update = text("hello")
        update["message"]["chat"] = {"id": -100123, "type": kind, "title": "Family"}
        assert telegram.post(update) == 200, kind
    post = text("news")
    post["channel_post"] = post.pop("message")
    post["channel_post"]["chat"] = {"id": -100456, "type": "channel", "title": "Jobs"}
    assert telegram.post(post) == 200
    assert stored_messages(database) == 0


def test_button_press_from_an_inline_keyboard_is_answered(
    telegram: Telegram, bot_api: FakeBotApi
) -> None:
    query = {
        "callback_query": {
            "id": "cb-1",
            "from": {"id": CHAT, "is_bot": False, "first_name": "Lei"},
            "chat_instance": "ci",
            "data": "register",
            "message": text("old menu")["message"],
        }
    }
    assert "Your name and birth year?" in telegram.says(query)
    assert bot_api.callback_answers[0]["callback_query_id"] == "cb-1"


def test_start_with_a_fair_payload_opens_that_fair(telegram: Telegram) -> None:
    with telegram.database.sessions() as session:
        fair_id = session.scalars(select(JobFair.id)).one()
    details = telegram.says(text(f"/start fair_{fair_id}"))
    assert details.startswith("Re-employment Job Fair for 10,000 People")
    assert "Reply JOIN for a reminder" in details
    assert "Done. We will remind you" in telegram.says(text("JOIN"))


def test_start_with_an_unknown_fair_lists_the_fairs(telegram: Telegram) -> None:
    assert telegram.says(text("/start fair_999")).startswith("Job fairs coming up:")


def test_slash_commands_are_the_same_words(telegram: Telegram) -> None:
    assert telegram.post(text("/menu")) == 200
    [menu] = telegram.replies()
    assert menu.text.startswith("Jobline menu")
    assert labels(menu)[0] == "1 Jobs near you"
    assert labels(menu)[-1] == "Send my location"
    assert "Jobline helps you" in telegram.says(text("/help"))
    assert "no more texts" in telegram.says(text("/stop"))
    assert telegram.says(text("hello")) == ""
    assert "Welcome back to Jobline" in telegram.says(text("/start"))


def test_a_wrong_yes_no_answer_is_asked_again_with_the_two_buttons(telegram: Telegram) -> None:
    telegram.says(text("register"))
    for answer in ("Wang Lei", "1972", "1 Man", "Daoli", "1 4"):
        telegram.says(text(answer))
    assert telegram.post(text("perhaps")) == 200
    [retry] = telegram.replies()
    assert "Reply 1 for Yes (texts about jobs)" in retry.text
    assert labels(retry) == ["1 Yes", "2 No"]


def test_queued_reply_reaches_the_chat_with_its_keyboard(
    telegram: Telegram, bot_api: FakeBotApi, settings: Settings
) -> None:
    telegram.post(text("/start"))
    [row] = telegram.replies()
    # The app's own dispatcher sends it, woken by the reply.
    deadline = time.monotonic() + 20
    while not bot_api.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    [sent] = bot_api.sent
    assert sent["text"] == row.text
    assert sent["reply_markup"]["keyboard"] == [
        [{"text": "1 Register"}, {"text": "MENU"}],
        [{"text": "Share my phone number", "request_contact": True}],
    ]


def test_five_updates_at_once_from_each_of_twenty_new_chats(
    telegram: Telegram, database: Database
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from db.models import Contact, Seeker

    updates = [
        {"update_id": 70000 + chat * 10 + k, **text(f"hello {k}", chat=6660000 + chat)}
        for chat in range(20)
        for k in range(5)
    ]
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(telegram.post, updates))
    assert [code for code in codes if code != 200] == []
    with database.sessions() as session:
        assert session.scalar(select(func.count(Seeker.id))) == 20
        assert session.scalar(select(func.count(Contact.id))) == 20
        statuses = list(session.scalars(select(Message.status)))
    assert statuses == ["handled"] * 100
