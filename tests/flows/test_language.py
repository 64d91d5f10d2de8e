"""Choosing Chinese or English, as transcripts: what the seeker sends, what Jobline answers."""

from __future__ import annotations

import yaml

from flows.catalogue import TEXTS, catalogue, placeholders
from flows.language import named_language
from flows.local_names import local_name
from reference import load_reference
from tests.fakes.engine import EngineSeeker

ENGLISH_MENU = "Jobline menu. Reply a number:"
CHINESE_MENU = "就业助手菜单，回复数字："


def test_chinese_switches_at_once_and_english_switches_back(seeker: EngineSeeker) -> None:
    assert ENGLISH_MENU in seeker.says("menu")
    answer = seeker.says("中文")
    assert answer.startswith("好的，以后用中文给您发短信。") and CHINESE_MENU in answer
    assert CHINESE_MENU in seeker.says("menu")
    assert seeker.profile.language == "zh"
    answer = seeker.says("english")
    assert answer.startswith("OK, I will text you in English.") and ENGLISH_MENU in answer
    assert seeker.profile.language == "en"


def test_asks_which_language_when_none_is_named(seeker: EngineSeeker) -> None:
    seeker.says("menu")
    asked = seeker.send("language")
    assert asked == ["Which language do you want? 您要哪种语言？\n1 English\n2 中文"]
    assert CHINESE_MENU in seeker.says("2")
    seeker.says("language")
    assert ENGLISH_MENU in seeker.says("1")


def test_a_chinese_first_message_gets_chinese(seeker: EngineSeeker) -> None:
    assert seeker.says("你好").startswith("您好，我是就业助手")
    assert seeker.profile.language == "zh"


def test_chinese_text_does_not_change_a_registered_seekers_language(seeker: EngineSeeker) -> None:
    for answer in ("register", "wang lei", "1972", "1", "daoli", "1 4", "yes", "1", "1"):
        seeker.send(answer)
    assert "Sorry" in seeker.says("你好吗")
    assert seeker.profile.language == "en"


CHINESE_REGISTRATION = [
    ("登记", "请发名字和出生年"),
    ("王磊", "您哪年出生？"),
    ("1972", "您是男的还是女的？"),
    ("2", "您住在哪个区或县？"),
    ("道里", "您想做什么工作？"),
    ("1 4", "可以发短信告诉您吗？"),
    ("1", "请核对：王磊，1972年生，女，道里。工作：保洁，厨师。工作短信：是。"),
    ("1", "谢谢，王磊，登记好了。"),
]


def test_registers_in_chinese(seeker: EngineSeeker) -> None:
    for sent, expected in CHINESE_REGISTRATION:
        assert expected in seeker.says(sent), sent
    row = seeker.profile
    assert (row.name, row.birth_year, row.gender, row.district) == ("王磊", 1972, "woman", "Daoli")
    assert row.interests == ("cleaning", "cooking")
    assert row.concession_card is None and row.alerts is True and row.registered
    assert row.language == "zh"


def test_every_english_text_has_a_chinese_one_with_no_new_placeholders() -> None:
    english = yaml.safe_load((TEXTS / "en.yaml").read_text(encoding="utf-8"))
    chinese = yaml.safe_load((TEXTS / "zh.yaml").read_text(encoding="utf-8"))
    assert set(chinese) == set(english)
    for key, template in english.items():
        assert set(placeholders(chinese[key])) <= set(placeholders(template)), key
    assert catalogue("zh")["word_yes"] == "是"


def test_the_language_a_message_names() -> None:
    assert named_language("speak Chinese please") == "zh"
    assert named_language("中文") == "zh"
    assert named_language("English") == "en"
    assert named_language("english or 中文") is None
    assert named_language("hello") is None


def test_chinese_names_of_places_and_work() -> None:
    reference = load_reference()
    daoli, cooking = reference.place("Daoli"), reference.category("cooking")
    assert daoli is not None and cooking is not None
    assert (local_name(daoli, "zh"), local_name(daoli, "en")) == ("道里", "Daoli")
    assert (local_name(cooking, "zh"), local_name(cooking, "en")) == ("厨师", "Cooking")
