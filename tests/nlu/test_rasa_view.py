"""Rasa reads a text with the pinyin of its Chinese characters after it; training data the same."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nlu.client import result_from_json
from nlu.config import NluSettings
from nlu.rasa_view import (
    PINYIN_ONLY_FILE,
    PINYIN_SHARE,
    VIEW,
    chosen_for_pinyin,
    example_view,
    pinyin_only,
    pinyin_only_document,
    rasa_view,
    write_training_data,
)


def test_chinese_gets_its_toneless_pinyin_after_it() -> None:
    assert rasa_view("待款咋办") == "待款咋办 dai kuan za ban"
    assert rasa_view("我要找活") == "我要找活 wo yao zhao huo"


def test_a_homophone_typo_reads_like_the_right_word() -> None:
    for typo, right in (("找伙", "找活"), ("待款", "贷款"), ("优会证", "优惠证"), ("培迅", "培训")):
        assert rasa_view(typo).split(" ", 1)[1] == rasa_view(right).split(" ", 1)[1]


def test_a_word_read_two_ways_gets_the_reading_of_its_phrase() -> None:
    assert rasa_view("银行") == "银行 yin hang"
    assert rasa_view("行不行") == "行不行 xing bu xing"


def test_english_pinyin_and_digits_are_left_as_they_are() -> None:
    for text in ("jobs in daoli", "zhao gong zuo", "3 pls", "", "👍"):
        assert rasa_view(text) == text


def test_mixed_text_gets_the_pinyin_of_its_chinese_only() -> None:
    assert rasa_view("cleaning 道里 3千") == "cleaning 道里 3千 dao li qian"


def test_traditional_characters_read_like_simplified() -> None:
    assert rasa_view("貸款").split(" ", 1)[1] == rasa_view("贷款").split(" ", 1)[1]


def test_an_annotated_example_keeps_its_annotation_and_reads_the_name() -> None:
    assert example_view("[道里](location)有活没") == "[道里](location)有活没 dao li you huo mei"
    assert example_view('[保洁]{"entity": "job_category"}') == (
        '[保洁]{"entity": "job_category"} bao jie'
    )


def test_an_entity_found_in_the_pinyin_is_dropped() -> None:
    text = "有一个事"  # "you yi" is also Youyi county's name
    body = {
        "intent": {"name": "help", "confidence": 0.9},
        "entities": [
            {"entity": "location", "value": "Daoli", "start": 0, "end": 2},
            {"entity": "location", "value": "Youyi", "start": len(text) + 1, "end": len(text) + 7},
        ],
    }
    assert result_from_json(body, len(text)).entities == (("location", "Daoli"),)
    assert len(result_from_json(body).entities) == 2


def test_training_data_is_written_as_rasa_reads_it(tmp_path: Path) -> None:
    source = tmp_path / "data"
    source.mkdir()
    (source / "nlu.yml").write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: loan_eligibility\n"
        "  examples: |\n"
        "    - 贷款咋办\n"
        "    - loan pls\n"
        "    - [道里](location)能贷款不\n"
        "- lookup: location\n"
        "  examples: |\n"
        "    - 道里\n"
        "- synonym: Daoli\n"
        "  examples: |\n"
        "    - 道里\n",
        encoding="utf-8",
    )
    (source / "notes.txt").write_text("kept", encoding="utf-8")
    write_training_data(source, tmp_path / "view")
    written = yaml.safe_load((tmp_path / "view" / "nlu.yml").read_text(encoding="utf-8"))
    assert written["version"] == "3.1"
    intent, lookup, synonym = written["nlu"]
    assert intent["examples"].splitlines() == [
        "- 贷款咋办 dai kuan za ban",
        "- loan pls",
        "- [道里](location)能贷款不 dao li neng dai kuan bu",
    ]
    assert lookup["examples"] == "- 道里\n" and synonym["examples"] == "- 道里\n"
    assert (tmp_path / "view" / "notes.txt").read_text(encoding="utf-8") == "kept"


def test_every_committed_example_survives_the_view(tmp_path: Path) -> None:
    source = NluSettings().project_dir / "data"
    write_training_data(source, tmp_path / "view")
    for path in sorted(source.glob("*.yml")):
        before = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
        after = yaml.safe_load((tmp_path / "view" / path.name).read_text(encoding="utf-8"))["nlu"]
        assert len(before) == len(after)
        for old, new in zip(before, after, strict=True):
            old_lines = old["examples"].splitlines()
            new_lines = new["examples"].splitlines()
            assert len(old_lines) == len(new_lines), path.name
            for old_line, new_line in zip(old_lines, new_lines, strict=True):
                assert new_line.startswith(old_line.rstrip()), (path.name, old_line)


def test_a_chinese_example_reads_as_pinyin_alone() -> None:
    assert pinyin_only("想在你们这留个档") == "xiang zai ni men zhe liu ge dang"
    assert pinyin_only("[道里](location)有活没") == "dao li you huo mei"
    assert pinyin_only("找活 男 55") == "zhao huo nan 55"


def test_english_and_typed_pinyin_have_no_pinyin_copy() -> None:
    for text in ("jobs in daoli", "zhao gong zuo", "3 pls", ""):
        assert pinyin_only(text) is None


def test_every_chinese_example_is_also_trained_on_in_pinyin_alone() -> None:
    examples = [("find_jobs", f"我想找活{n}号") for n in range(200)] + [("find_jobs", "jobs pls")]
    document = pinyin_only_document(examples)
    (item,) = document["nlu"]
    copies = item["examples"].splitlines()
    assert PINYIN_SHARE == 1 and VIEW.endswith("pinyin-only-1-in-1")  # the view names the share
    assert item["intent"] == "find_jobs"
    assert len(copies) == 200 and all(chosen_for_pinyin(example) for _, example in examples)
    assert all(line.startswith("- wo xiang zhao huo ") for line in copies)
    assert pinyin_only_document(examples) == document  # the same copies every training


def test_a_share_of_two_picks_about_half_by_checksum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("nlu.rasa_view.PINYIN_SHARE", 2)
    examples = [f"我想找活{n}号" for n in range(200)]
    chosen = [example for example in examples if chosen_for_pinyin(example)]
    assert 50 < len(chosen) < 150
    assert chosen == [example for example in examples if chosen_for_pinyin(example)]


def test_a_pinyin_copy_is_written_once_and_never_over_an_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("nlu.rasa_view.PINYIN_SHARE", 1)  # every Chinese example chosen
    examples = [
        ("find_jobs", "找活"),
        ("find_jobs", "找伙"),
        ("help", "帮助"),
        ("help", "bang zhu"),
    ]
    document = pinyin_only_document(examples)
    assert document["nlu"] == [{"intent": "find_jobs", "examples": "- zhao huo\n"}]


def test_the_training_copy_has_the_pinyin_file(tmp_path: Path) -> None:
    source = NluSettings().project_dir / "data"
    write_training_data(source, tmp_path / "view")
    written = yaml.safe_load((tmp_path / "view" / PINYIN_ONLY_FILE).read_text(encoding="utf-8"))
    lines = [line for item in written["nlu"] for line in item["examples"].splitlines()]
    assert len(lines) > 500 and len(lines) == len(set(lines))
    assert not (source / PINYIN_ONLY_FILE).exists()
