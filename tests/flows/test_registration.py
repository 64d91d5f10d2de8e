"""Registration by text, as transcripts: what the seeker sends, what Jobline answers."""

from __future__ import annotations

import pytest

from notify.sms import segments
from tests.conftest import Clock
from tests.fakes.engine import EngineSeeker
from tests.fakes.seekers import HAPPY_PATH, register


def test_registers_in_seven_answers(seeker: EngineSeeker) -> None:
    for sent, expected in HAPPY_PATH:
        assert expected in seeker.says(sent), sent
    row = seeker.profile
    assert (row.name, row.birth_year, row.gender, row.district) == (
        "Wang Lei",
        1972,
        "man",
        "Daoli",
    )
    assert row.interests == ("cleaning", "cooking")
    # The card is asked when it matters (the loan questions), not at registration.
    assert row.concession_card is None and row.alerts is True
    assert row.registered


def test_age_instead_of_year_and_near_miss_district(seeker: EngineSeeker) -> None:
    seeker.send("register")
    seeker.send("Li Hua")
    assert "man or a woman" in seeker.says("52")
    seeker.send("woman")
    assert "Did you mean Harbin?" in seeker.says("harbn")
    assert "What work" in seeker.says("1")
    for answer in ("cleaning", "no", "1"):
        seeker.send(answer)
    row = seeker.profile
    assert row.birth_year == 2026 - 52 and row.district == "Harbin" and row.gender == "woman"
    assert row.concession_card is None and row.alerts is False


def test_back_goes_one_step_and_fixes_an_answer(seeker: EngineSeeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    seeker.send("1972")
    assert "What year were you born?" in seeker.says("0")
    assert "man or a woman" in seeker.says("1975")
    for answer in ("1", "daoli", "3", "1"):
        seeker.send(answer)
    assert "You are registered" in seeker.says("1")
    assert seeker.profile.birth_year == 1975


def test_change_one_answer_from_the_summary(seeker: EngineSeeker) -> None:
    for sent, _ in HAPPY_PATH[:-1]:
        seeker.send(sent)
    assert "Which answer" in seeker.says("2")
    assert "Which district" in seeker.says("4")
    assert "Please check" in seeker.says("nangang")
    seeker.send("1")
    assert seeker.profile.district == "Nangang"


def test_register_again_reviews_answers(seeker: EngineSeeker) -> None:
    register(seeker)
    review = seeker.says("register")
    assert "Please check: Wang Lei" in review
    seeker.send("2")
    seeker.send("1")
    assert "Please check: Zhang Min" in seeker.says("Zhang Min")
    assert "You are registered" in seeker.says("1")
    assert seeker.profile.name == "Zhang Min"


def test_wrong_answers_reask_with_an_example_then_offer_a_person(seeker: EngineSeeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    first = seeker.says("blue")
    assert "like 1972" in first and "Reply 9" not in first
    seeker.send("blue")
    third = seeker.says("blue")
    assert "like 1972" in third and "Reply 9 to talk to a person" in third


def test_bad_answers_get_a_clear_reply_and_nothing_stored(seeker: EngineSeeker) -> None:
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
    row = seeker.profile
    assert row.name is None and row.birth_year is None and not row.registered


def test_empty_message_gets_a_reply(seeker: EngineSeeker) -> None:
    assert "empty" in seeker.says("   ")


def test_same_answer_twice_is_not_a_problem(seeker: EngineSeeker) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    assert "the year you were born" in seeker.says("Wang Lei")
    assert "man or a woman" in seeker.says("1972")
    assert "Which district" in seeker.says("1")
    assert "your district" in seeker.says("1")


def test_idle_conversation_restarts_politely(seeker: EngineSeeker, clock: Clock) -> None:
    seeker.send("register")
    seeker.send("Wang Lei")
    clock.advance(hours=25)
    answer = seeker.says("1972")
    assert "Welcome back" in answer and "Jobline menu" in answer
    assert "Your name and birth year?" in seeker.says("5")


def test_a_name_with_a_year_or_an_age_answers_two_questions(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "man or a woman" in seeker.says("Wang Fang 1975")
    assert "What year were you born?" in seeker.says("0")
    for answer in ("1976", "2", "daoli", "1", "1"):
        seeker.send(answer)
    assert "You are registered" in seeker.says("1")
    row = seeker.profile
    assert (row.name, row.birth_year, row.gender) == ("Wang Fang", 1976, "woman")


@pytest.mark.parametrize(
    ("sent", "name", "year"),
    [
        ("王芳1975年", "王芳", 1975),
        ("li hua, 52", "Li Hua", 2026 - 52),
        ("Wang Fang 1975", "Wang Fang", 1975),
    ],
)
def test_name_and_year_in_one_text(seeker: EngineSeeker, sent: str, name: str, year: int) -> None:
    seeker.send("register")
    seeker.send(sent)
    for answer in ("2", "daoli", "1", "1"):
        seeker.send(answer)
    seeker.send("1")
    row = seeker.profile
    assert (row.name, row.birth_year, row.registered) == (name, year, True)


def test_a_number_that_is_not_a_year_is_not_split_off(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "just your name" in seeker.says("Wang 7")
    assert "just your name" in seeker.says("Wang Fang 1850")


def transcript(seeker: EngineSeeker, messages: list[str]) -> list[tuple[str, list[str]]]:
    """What a seeker sent and the texts that came back, one pair per text the seeker paid for."""
    return [(message, seeker.send(message)) for message in messages]


# Three new seekers who each make a different mistake, from their very first text.
ONE_MISTAKE_EACH = {
    "typo in the district": [
        "hi",
        "Wang Fang",
        "1975",
        "woman",
        "songbie",
        "1",
        "1 4",
        "1",
        "1",
    ],
    "an answer that is not a choice": [
        "hello",
        "Li Hua 52",
        "3",
        "1",
        "daowai",
        "cleaning",
        "no",
        "1",
    ],
    "Chinese, a word at a numbers question": [
        "你好",
        "王芳1975",
        "女",
        "平房区",
        "好",
        "1 4",
        "是",
        "1",
    ],
}


@pytest.mark.parametrize("messages", ONE_MISTAKE_EACH.values(), ids=ONE_MISTAKE_EACH.keys())
def test_registers_in_at_most_ten_texts_with_one_mistake(
    seeker: EngineSeeker, messages: list[str]
) -> None:
    talk = transcript(seeker, messages)
    first, last = " ".join(talk[0][1]), " ".join(talk[-1][1])
    assert "name and birth year" in first or "名字和出生年" in first
    assert "registered" in last or "登记好了" in last
    assert len(talk) <= 10
    assert [text for _, texts in talk for text in texts if segments(text) > 1] == []
    row = seeker.profile
    assert row.registered and row.district in ("Songbei", "Daowai", "Pingfang")
    assert row.birth_year in (1975, 2026 - 52)
