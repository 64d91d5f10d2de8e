"""What Rasa reads: a text with the toneless pinyin of its Chinese characters after it.

Seekers without a Chinese keyboard type pinyin (dai kuan, zhao huo), and others pick the wrong
character of the same sound (待款 for 贷款, 找伙 for 找活, 优会证 for 优惠证). With the pinyin
beside the characters, in the training data and in every parsed text alike, all of them share
features with the right words. The committed training data stays as written: the model is
trained on a copy made by `write_training_data`, and `nlu.client` sends every text through
`rasa_view`.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import yaml

from nlu.pinyin_table import lazy_pinyin

# Part of the model's name (nlu.server.project_hash): a change here must retrain the model.
VIEW = "pinyin-after-1+pinyin-only-1-in-1"
# One Chinese example in PINYIN_SHARE (chosen by a checksum of its text, so every training gets the
# same ones) is also trained on as a seeker without a Chinese keyboard types it: pinyin alone.
# 1: every Chinese example (the share of 2 left whole texts typed in pinyin missed).
PINYIN_SHARE = 1
# The generated file of those copies in the training copy of the data (never committed).
PINYIN_ONLY_FILE = "generated_pinyin_only.yml"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A Rasa entity annotation, [道里](location) or [道里]{"entity": ...}: its text is what is read.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _with_pinyin(text: str, read: str) -> str:
    """The text, then the toneless pinyin of the Chinese characters in `read`."""
    syllables = lazy_pinyin(read, errors="ignore")
    return f"{text} {' '.join(syllables)}" if syllables else text


def rasa_view(text: str) -> str:
    """The text, then its Chinese characters' pinyin: "待款咋办" -> "待款咋办 dai kuan za ban"."""
    return _with_pinyin(text, text)


def example_view(example: str) -> str:
    """One training example (entity annotations kept) with the pinyin of its words after it."""
    return _with_pinyin(example, _ANNOTATION.sub(r"\1", example))


def pinyin_only(example: str) -> str | None:
    """A Chinese example as typed in pinyin alone ("想留个档" -> "xiang liu ge dang"), else None."""
    text = _ANNOTATION.sub(r"\1", example)
    if not _HAN.search(text):
        return None
    return " ".join(" ".join(lazy_pinyin(text)).lower().split())


def chosen_for_pinyin(example: str) -> bool:
    """Whether this example is one of the share also trained on in pinyin alone."""
    return zlib.crc32(example.encode("utf-8")) % PINYIN_SHARE == 0


def _intent_examples(document: object) -> list[tuple[str, str]]:
    items = document.get("nlu") if isinstance(document, dict) else None
    pairs: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and "intent" in item and isinstance(item.get("examples"), str):
            lines = item["examples"].splitlines()
            pairs += [(item["intent"], line[2:].strip()) for line in lines if line.startswith("- ")]
    return pairs


def pinyin_only_document(examples: list[tuple[str, str]]) -> dict[str, Any]:
    """Rasa NLU data with the chosen share of Chinese (intent, example) pairs in pinyin alone."""
    seen = {example for _, example in examples}
    by_intent: dict[str, list[str]] = {}
    for intent, example in examples:
        copy = pinyin_only(example) if chosen_for_pinyin(example) else None
        if copy and copy not in seen:
            seen.add(copy)
            by_intent.setdefault(intent, []).append(copy)
    nlu = [
        {"intent": intent, "examples": "".join(f"- {line}\n" for line in lines)}
        for intent, lines in by_intent.items()
    ]
    return {"version": "3.1", "nlu": nlu}


def _examples_view(block: str) -> str:
    lines = [
        f"- {example_view(line[2:].strip())}" if line.startswith("- ") else line
        for line in block.splitlines()
    ]
    return "\n".join(lines) + "\n"


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, as Rasa's own files have them."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def training_view(document: dict[str, Any]) -> dict[str, Any]:
    """A Rasa NLU data document with every intent example as Rasa reads it (lookups kept)."""
    items = document.get("nlu")
    if not isinstance(items, list):
        return document
    viewed = [
        {**item, "examples": _examples_view(item["examples"])}
        if isinstance(item, dict) and "intent" in item and isinstance(item.get("examples"), str)
        else item
        for item in items
    ]
    return {**document, "nlu": viewed}


def _dump(path: Path, document: object) -> None:
    text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6)
    path.write_text(text, encoding="utf-8")


def write_training_data(source: Path, target: Path) -> None:
    """Copy Rasa's data to target as Rasa reads it, with a share of Chinese in pinyin alone."""
    examples: list[tuple[str, str]] = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix not in (".yml", ".yaml"):
            out.write_bytes(path.read_bytes())
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        examples += _intent_examples(document)
        if isinstance(document, dict):
            document = training_view(document)
        _dump(out, document)
    _dump(target / PINYIN_ONLY_FILE, pinyin_only_document(examples))
