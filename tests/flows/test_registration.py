"""Registration by text, as transcripts: what the seeker sends, what Jobline answers."""

from __future__ import annotations

from sqlalchemy import select

from bot.database import Database
from db.models import Seeker as SeekerRow
from tests.conftest import Clock, Seeker

HAPPY_PATH = [
    ("register", "What is your name?"),
    ("wang lei", "What year were you born?"),
    ("1972", "man or a woman"),
    ("1", "Which district"),
    ("daoli", "What work do you want?"),
    ("1 4", "concession card"),
    ("yes", "text you about new jobs"),
    ("1", "Please check: Wang Lei, born 1972, man, Daoli. Work: Cleaning, Cooking"),
    ("1", "You are registered"),
]


def stored(database: Database, phone: str = "+8613800000001") -> SeekerRow:
    with database.sessions() as session:
        row = session.scalar(select(SeekerRow).where(SeekerRow.phone == phone))
        assert row is not None
        return row


def test_registers_in_eight_answers(seeker: Seeker, database: Database) -> None:
    for sent, expected in HAPPY_PATH:
        assert expected in seeker.says(sent), sent
    row = stored(database)
    assert (row.name, row.birth_year, row.gender, row.district) == (
        "Wang Lei",
        1972,
        "man",
        "Daoli",
    )
    assert row.interests == ["cleaning", "cooking"]
    assert row.concession_card is True and row.alerts is True
    assert row.registered_at is not None
    assert len(HAPPY_PATH) - 1 == 8


def register(seeker: Seeker) -> None:
    for sent, _ in HAPPY_PATH:
        seeker.send(sent)


def test_age_instead_of_year_and_near_miss_district(seeker: Seeker, database: Database) -> None:
    seeker.send("register")
    seeker.send("Li Hua")
    assert "man or a woman" in seeker.says("52")
    seeker.send("woman")
    assert "Did you mean Harbin?" in seeker.says("harbn")
    assert "What work" in seeker.says("1")
    for answer in ("cleaning", "2", "no", "1"):
        seeker.send(answer)
    row = stored(database)
    assert row.birth_year == 2026 - 52 and row.district == "Harbin" and row.gender == "woman"
    assert row.concession_card is False and row.alerts is False


def test_back_goes_one_step_and_fixes_an_answer(seeker: Seeker, database: Database) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    seeker.send("1972")
    assert "What year were you born?" in seeker.says("0")
    assert "man or a woman" in seeker.says("1975")
    for answer in ("1", "daoli", "3", "1", "1"):
        seeker.send(answer)
    assert "You are registered" in seeker.says("1")
    assert stored(database).birth_year == 1975


def test_change_one_answer_from_the_summary(seeker: Seeker, database: Database) -> None:
    for sent, _ in HAPPY_PATH[:-1]:
        seeker.send(sent)
    assert "Which answer" in seeker.says("2")
    assert "Which district" in seeker.says("4")
    assert "Please check" in seeker.says("nangang")
    seeker.send("1")
    assert stored(database).district == "Nangang"


def test_register_again_reviews_answers(seeker: Seeker, database: Database) -> None:
    register(seeker)
    review = seeker.says("register")
    assert "Please check: Wang Lei" in review
    seeker.send("2")
    seeker.send("1")
    assert "Please check: Zhang Min" in seeker.says("Zhang Min")
    assert "You are registered" in seeker.says("1")
    assert stored(database).name == "Zhang Min"


def test_wrong_answers_reask_with_an_example_then_offer_a_person(seeker: Seeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    first = seeker.says("blue")
    assert "like 1972" in first and "Reply 9" not in first
    seeker.send("blue")
    third = seeker.says("blue")
    assert "like 1972" in third and "Reply 9 to talk to a person" in third


def test_bad_answers_get_a_clear_reply_and_nothing_stored(
    seeker: Seeker, database: Database
) -> None:
    seeker.send("register")
    assert "just your name" in seeker.says("<script>alert(1)</script>")
    assert "just your name" in seeker.says("Robert'); DROP TABLE seekers;--")
    assert "just your name" in seeker.says("😀😀😀")
    assert "just your name" in seeker.says("x" * 2000)
    seeker.send("Wang Lei")
    for bad in ("1850", "2030", "300"):
        assert "the year you were born" in seeker.says(bad)
    seeker.send("1970")
    seeker.send("1")
    unknown = seeker.says("Atlantis")
    assert "do not know that place" in unknown or "your district" in unknown
    row = stored(database)
    assert row.name is None and row.birth_year is None and row.registered_at is None


def test_empty_message_gets_a_reply(seeker: Seeker) -> None:
    assert "empty" in seeker.says("   ")


def test_same_answer_twice_is_not_a_problem(seeker: Seeker, database: Database) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    assert "the year you were born" in seeker.says("Wang Lei")
    assert "man or a woman" in seeker.says("1972")
    assert "Which district" in seeker.says("1")
    assert "your district" in seeker.says("1")


def test_idle_conversation_restarts_politely(seeker: Seeker, clock: Clock) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    clock.advance(hours=25)
    answer = seeker.says("1972")
    assert "Welcome back" in answer and "Jobline menu" in answer
    assert "What is your name?" in seeker.says("5")
