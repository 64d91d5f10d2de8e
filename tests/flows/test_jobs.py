"""Jobs near me and applying, as transcripts: what the seeker sends, what Jobline answers."""

from __future__ import annotations

import re

import pytest

from nlu.keywords import fast_path
from nlu.parse import Entity, Parse
from nlu.understand import Understander
from tests.conftest import Clock
from tests.fakes.engine import EngineSeeker
from tests.fakes.seekers import REFERENCE, register


class RasaLike(Understander):
    """Stands in for the Rasa server: intents and entities for a few sentences."""

    SENTENCES = {
        "cleaning jobs in daoli": Parse(
            "cleaning jobs in daoli",
            "find_jobs",
            0.95,
            (Entity("location", "Daoli"), Entity("job_category", "cleaning")),
            "rasa",
        ),
        "any work in fuyu county": Parse(
            "any work in fuyu county", "find_jobs", 0.9, (Entity("location", "Fuyu"),), "rasa"
        ),
        # Rasa found the intent but no entities: the flow reads the words itself.
        "security jobs in nangang": Parse("security jobs in nangang", "find_jobs", 0.9),
        "jobs in atlantis": Parse("jobs in atlantis", "find_jobs", 0.9),
        "apply for road cleaner": Parse("apply for road cleaner", "apply_job", 0.9),
        "driver jobs in daqing": Parse("driver jobs in daqing", "find_jobs", 0.9),
        "cleaning jobs in songbei": Parse("cleaning jobs in songbei", "find_jobs", 0.9),
        "care jobs in songbei": Parse("care jobs in songbei", "find_jobs", 0.9),
        "cleaning jobs": Parse(
            "cleaning jobs", "find_jobs", 0.9, (Entity("job_category", "cleaning"),), "rasa"
        ),
        "i want to change my district": Parse(
            "i want to change my district", "update_profile", 0.9, source="rasa"
        ),
    }

    def understand(self, text: str, language: str = "en", expecting: str | None = None) -> Parse:
        found = fast_path(text, expecting)
        if found is not None:
            return found
        known = self.SENTENCES.get(text.lower())
        return known if known is not None else super().understand(text, language, expecting)


@pytest.fixture
def talker(clock: Clock) -> EngineSeeker:
    """A seeker whose free text is understood as Rasa would."""
    return EngineSeeker(clock, understander=RasaLike())


def test_registered_seeker_sees_jobs_in_their_district_three_at_a_time(
    seeker: EngineSeeker,
) -> None:
    register(seeker)
    first = seeker.says("jobs")
    assert first.startswith("Jobs in Daoli (1-3 of 5):")
    # Wang Lei asked for cooking and cleaning: the breakfast stall comes first.
    assert "1 Breakfast stall helper, Daoli, 2,200 yuan a month\n" in first
    assert "Community security guard, Daoli, 2,000 yuan a month (public job)" in first
    assert "MORE for more" in first
    second = seeker.says("MORE")
    assert second.startswith("Jobs in Daoli (4-5 of 5):")
    assert "\n1 " in second and "\n3 " not in second and "MORE for more" not in second
    assert "That is all the jobs" in seeker.says("more")


def test_a_number_shows_the_details_and_offers_to_apply(seeker: EngineSeeker) -> None:
    register(seeker)
    seeker.send("jobs")
    details = seeker.says("2")
    assert details.startswith("Community security guard\nEmployer: Daoli Street Office")
    assert "Hours: Shifts, 12 hours, 4 days a week" in details
    assert "Pay: 2,000 yuan a month" in details and "Suits: Men up to 60" in details
    assert "Public job: paid by the government" in details
    assert "Reply 1 to apply" in details
    private = seeker.says("0")
    assert private.startswith("Jobs in Daoli (1-3 of 5)")
    assert "Public job" not in seeker.says("1")


def test_apply_in_one_step_gets_a_reference_and_never_twice(
    seeker: EngineSeeker, clock: Clock
) -> None:
    register(seeker)
    seeker.send("jobs")
    seeker.send("2")
    done = seeker.says("1")
    assert "Done, Wang Lei. You applied for Community security guard at Daoli Street" in done
    found = REFERENCE.search(done)
    assert found is not None
    stored = seeker.store.applied
    assert [(a.reference, a.stage) for a in stored] == [(found.group(1), "submitted")]
    clock.advance(hours=20)  # the next day in Harbin
    seeker.send("2")
    again = seeker.says("1")
    assert "You already applied for Community security guard on 2 Dec" in again
    assert found.group(1) in again
    assert len(seeker.store.applied) == 1


def test_a_number_not_on_the_list(seeker: EngineSeeker) -> None:
    register(seeker)
    seeker.send("jobs")
    assert "no job 7 on this list. Reply 1 to 3" in seeker.says("7")
    seeker.send("more")
    assert "no job 3 on this list. Reply 1 to 2" in seeker.says("3")
    assert "Reply 9 to talk to a person" not in seeker.says("8")
    assert "Reply 9 to talk to a person" in seeker.says("5")


def test_a_withdrawn_job(seeker: EngineSeeker) -> None:
    register(seeker)
    seeker.send("jobs")
    seeker.store.withdraw("HRB-SECURITY-1")
    assert "no longer open" in seeker.says("2")
    # Withdrawn between seeing it and applying.
    assert seeker.says("3").startswith("Green space worker")
    seeker.store.withdraw("HRB-GREEN-1")
    assert "no longer open" in seeker.says("1")
    assert seeker.store.applied == []
    # A page shown after a post is withdrawn leaves it out.
    seeker.store.withdraw("HRB-CARWASH-1")
    page = seeker.says("more")
    assert "Waterless car washer" not in page and "\n2 Vegetable delivery driver" in page
    assert "(1-2 of 2)" in seeker.says("jobs")


def test_unregistered_seeker_searches_then_registers_to_apply_and_comes_back(
    seeker: EngineSeeker,
) -> None:
    assert "Which district or county" in seeker.says("jobs")
    assert seeker.says("daoli").startswith("Jobs in Daoli (1-3 of 5)")
    assert "Community security guard" in seeker.says("1")
    assert "To apply, please register first" in seeker.says("1")
    for answer in ("Li Hua", "1970", "2", "daoli", "1", "no"):
        seeker.send(answer)
    finished = seeker.send("1")
    assert "You are registered. Now back to the job" in finished[0]
    assert finished[1].startswith("Community security guard") and "Reply 1 to apply" in finished[1]
    assert len(finished) == 2
    assert REFERENCE.search(seeker.says("1")) is not None
    assert len(seeker.store.applied) == 1


def test_place_and_kind_named_with_no_jobs_widens_to_the_city(talker: EngineSeeker) -> None:
    answer = talker.says("cleaning jobs in daoli")
    assert answer.startswith("No cleaning jobs in Daoli now. Cleaning jobs in all of Harbin")
    assert "Road cleaner, Nangang, 1,700 yuan a month (public job)" in answer
    assert "Community cleaner" in answer and "Breakfast" not in answer


def test_place_and_kind_read_from_the_words_when_rasa_has_no_entities(talker: EngineSeeker) -> None:
    answer = talker.says("security jobs in nangang")
    assert answer.startswith("No security guard jobs in Nangang now. Security guard jobs in all")
    assert "Community security guard, Daoli" in answer
    county = talker.says("any work in fuyu county")
    assert county.startswith("Jobs in Fuyu (1-1 of 1)") and "Cattle farm worker" in county


def test_a_place_nobody_knows_gets_suggestions(talker: EngineSeeker) -> None:
    answer = talker.says("jobs in atlantis")
    assert "Sorry, I do not know atlantis. Did you mean:" in answer
    assert "Send the name, like Daoli" in answer
    assert "I do not know qwzx" in talker.says("qwzx")
    assert talker.says("mudanjang").startswith("Jobs in Mudanjiang (1-1 of 1)")


def test_a_city_and_its_districts_and_a_kind_of_work_nowhere(talker: EngineSeeker) -> None:
    talker.send("jobs")
    harbin = talker.says("harbin")
    assert harbin.startswith("Jobs in Harbin (1-3 of 8)")
    nothing = talker.says("driver jobs in daqing")
    assert "Sorry, there are no driver jobs in Heilongjiang now" in nothing


def test_jobs_near_me_widens_district_city_province_and_says_so(talker: EngineSeeker) -> None:
    city = talker.says("cleaning jobs in songbei")
    assert city.startswith(
        "No cleaning jobs in Songbei now. Cleaning jobs in all of Harbin (1-2 of 2)"
    )
    province = talker.says("care jobs in songbei")
    assert province.startswith(
        "No care work jobs in Songbei now. Care work jobs in all of Heilongjiang (1-1 of 1)"
    )
    assert "Home care helper, Shuangyashan" in province


def test_apply_by_name(talker: EngineSeeker) -> None:
    register(talker)
    details = talker.says("apply for road cleaner")
    assert details.startswith("Road cleaner\nEmployer: Nangang Sanitation Team")
    assert REFERENCE.search(talker.says("1")) is not None
    [applied] = talker.store.applied
    assert talker.store.posts[applied.job_id].code == "HRB-CLEAN-1"


def test_apply_keyword_on_the_list_asks_for_the_number(seeker: EngineSeeker) -> None:
    register(seeker)
    seeker.send("jobs")
    assert "Reply its number" in seeker.says("apply")
    assert "Reply 1 to apply" in seeker.says("1")
    assert "Your reference is" in seeker.says("apply")


def test_references_avoid_look_alike_characters() -> None:
    from bot.lookup import REFERENCE_ALPHABET, random_reference

    assert not set("0O1I") & set(REFERENCE_ALPHABET)
    codes = {random_reference() for _ in range(200)}
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{4}", code) for code in codes)
    assert len(codes) > 190


def test_a_new_kind_of_work_keeps_the_place_being_looked_at(talker: EngineSeeker) -> None:
    talker.send("jobs")
    assert talker.says("nangang").startswith("Jobs in Nangang (1-3 of 3)")
    answer = talker.says("cleaning jobs")
    assert answer.startswith("Cleaning jobs in Nangang (1-2 of 2)")


def test_change_one_answer_without_registering_again(talker: EngineSeeker) -> None:
    register(talker)
    assert "Which answer do you want to change?" in talker.says("I want to change my district")
    assert "Which district" in talker.says("4")
    assert "Please check: Wang Lei, born 1972, man, Nangang" in talker.says("nangang")
    assert "You are registered" in talker.says("1")
    assert talker.says("jobs").startswith("Jobs in Nangang")
