"""Global commands work in any state: MENU, 0, 9, HELP, STOP, START."""

from __future__ import annotations

from tests.fakes.engine import EngineSeeker


def test_menu_from_inside_a_question(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "Jobline menu" in seeker.says("MENU")


def test_zero_at_the_first_question_goes_to_the_menu(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "Jobline menu" in seeker.says("0")


def test_nine_asks_for_a_person_and_the_bot_goes_quiet(seeker: EngineSeeker) -> None:
    seeker.send("register")
    answer = seeker.says("9")
    assert "caseworker will text you back today before 17:00" in answer
    assert seeker.send("hello? anyone?") == []
    assert len(seeker.store.handoffs) == 1
    assert "Jobline menu" in seeker.says("menu")


def test_help_in_any_state(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "STOP" in seeker.says("help")
    assert "What year" in seeker.says("Wang Lei")


def test_stop_is_confirmed_once_then_silence_until_start(seeker: EngineSeeker) -> None:
    seeker.send("register")
    assert "no more texts" in seeker.says("STOP")
    assert seeker.send("hello") == []
    assert seeker.send("stop") == []
    assert seeker.send("register") == []
    assert seeker.profile.opted_out
    assert "Welcome back" in seeker.says("START")
    assert not seeker.profile.opted_out


def test_stop_words_in_any_case(seeker: EngineSeeker) -> None:
    assert "no more texts" in seeker.says("unsubscribe")
    assert "Welcome back" in seeker.says("start")
    assert "no more texts" in seeker.says("Stop")


def test_nonsense_gets_a_kind_reply_with_the_menu(seeker: EngineSeeker) -> None:
    answer = seeker.says("qwpoeiru zxmv")
    assert "Sorry" in answer and "Jobline menu" in answer


def test_photo_gets_please_send_text(seeker: EngineSeeker) -> None:
    assert "only read text" in seeker.says("", kind="media")
