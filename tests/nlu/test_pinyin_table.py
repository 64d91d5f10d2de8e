"""The compact pinyin table reads every text exactly as pypinyin's lazy_pinyin does."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import pinyin_table
from nlu.config import REPO_ROOT
from nlu.pinyin_table import FORMAT, Table, build_table, read_table, table_path
from nlu.rasa_view import _ANNOTATION

# pypinyin itself, with its full dictionaries, in a process of its own (no PYPINYIN_* settings).
REFERENCE = """
import json, sys
from pypinyin import lazy_pinyin
texts = json.load(sys.stdin)
json.dump([[lazy_pinyin(t), lazy_pinyin(t, errors="ignore")] for t in texts], sys.stdout)
"""
EDGES = [
    "",
    " ",
    "\n",
    "银行行不行",
    "通知了",  # 通知 is a phrase only when 知了 is one too: the cut must be pypinyin's
    "下不了",  # the start of a phrase (下不了台) and none: each character alone, not 不了 (bu liao)
    "cleaning 道里 3千\ue815, 好！\n重庆",
    "\U00020000\U0002a6d6\u3007\u9fff\u3400\ufa18",  # rarer characters, some without pinyin
    "女\u00fc绿lüe",
]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Table:
    """A table built from pypinyin as the app builds it (a subprocess), into a scratch file."""
    path = tmp_path_factory.mktemp("pinyin") / "table.marshal"
    build_table(path)
    return read_table(path)


def _examples() -> list[str]:
    """Every example line of the training and held-out data, as written and as Rasa reads it."""
    paths = sorted((REPO_ROOT / "nlu" / "rasa" / "data").glob("*.yml"))
    paths += sorted((REPO_ROOT / "nlu" / "heldout").glob("*.yml"))
    lines = {m for p in paths for m in re.findall(r"(?m)^\s*- (.*)$", p.read_text("utf-8"))}
    return sorted(lines | {_ANNOTATION.sub(r"\1", line) for line in lines})


def _random_texts(table: Table) -> list[str]:
    """Seeded runs of 2-4 phrases, a phrase's start, characters with and without pinyin."""
    rng = random.Random(14)
    phrases = table.keys
    texts = ["".join(rng.choices(phrases, k=rng.randint(2, 4))) for _ in range(4000)]
    starts = [phrase[: rng.randint(2, len(phrase) - 1)] for phrase in phrases if len(phrase) > 3]
    texts += [rng.choice(phrases) + start for start in rng.sample(starts, 2000)]
    points = [point for point in rng.sample(range(0x3400, 0x32390), 3000) if point >> 11 != 0x1B]
    chars = [chr(point) for point in points] + list("ab 1,。")  # no surrogates (JSON pairs them)
    texts += ["".join(rng.choices(chars, k=rng.randint(1, 8))) for _ in range(1000)]
    return texts


def test_the_table_reads_as_pypinyin_does(table: Table) -> None:
    texts = EDGES + _examples() + _random_texts(table)
    assert len(texts) > 15_000
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYPINYIN_")}
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE],
        input=json.dumps(texts),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(done.stdout)
    wrong = [
        (text, want, [table.lazy_pinyin(text), table.lazy_pinyin(text, errors="ignore")])
        for text, want in zip(texts, expected, strict=True)
        if [table.lazy_pinyin(text), table.lazy_pinyin(text, errors="ignore")] != want
    ]
    assert not wrong[:5], f"{len(wrong)} of {len(texts)} read otherwise"


def test_the_table_is_small_and_keeps_every_phrase(table: Table) -> None:
    assert len(table.phrases) > 47_000
    assert sum(reading is not None for reading in table.phrases.values()) < 4_000
    assert len(table.syllables) < 500


def test_the_table_file_is_named_by_pypinyin_version_and_format() -> None:
    path = table_path()
    assert path.name.startswith("pinyin-0.") and path.name.endswith(f"-{FORMAT}.marshal")
    assert path.is_relative_to(sys.prefix)


def test_a_file_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "table.marshal"
    for data in (b"", b"not marshal", b"\xe9\x00\x00\x00\x00"):
        path.write_bytes(data)
        with pytest.raises(ValueError):
            read_table(path)


@pytest.fixture()
def fresh_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """lazy_pinyin finds its table anew, before and after the test."""
    pinyin_table._reader.cache_clear()
    yield
    pinyin_table._reader.cache_clear()


def test_a_missing_table_is_built_at_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_reader: None
) -> None:
    path = tmp_path / "share" / "table.marshal"
    monkeypatch.setattr(pinyin_table, "table_path", lambda: path)
    assert pinyin_table.lazy_pinyin("行不行") == ["xing", "bu", "xing"]
    assert read_table(path).phrases


def test_without_a_table_pypinyin_reads_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_reader: None
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(pinyin_table, "table_path", lambda: tmp_path / "file" / "table.marshal")
    assert pinyin_table.lazy_pinyin("银行 ok", errors="ignore") == ["yin", "hang"]
    assert pinyin_table.lazy_pinyin("银行 ok") == ["yin", "hang", " ok"]
