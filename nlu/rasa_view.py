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
from pathlib import Path
from typing import Any

import yaml
from pypinyin import lazy_pinyin

# Part of the model's name (nlu.server.project_hash): a change here must retrain the model.
VIEW = "pinyin-after-1"
# A Rasa entity annotation, [道里](location) or [道里]{"entity": ...}: its text is what is read.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def rasa_view(text: str) -> str:
    """The text, then its Chinese characters' pinyin: "待款咋办" -> "待款咋办 dai kuan za ban"."""
    syllables = lazy_pinyin(text, errors="ignore")
    return f"{text} {' '.join(syllables)}" if syllables else text


def example_view(example: str) -> str:
    """One training example (entity annotations kept) with the pinyin of its words after it."""
    syllables = lazy_pinyin(_ANNOTATION.sub(r"\1", example), errors="ignore")
    return f"{example} {' '.join(syllables)}" if syllables else example


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


def write_training_data(source: Path, target: Path) -> None:
    """Copy Rasa's data directory from source to target, every intent example in Rasa's view."""
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix not in (".yml", ".yaml"):
            out.write_bytes(path.read_bytes())
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict):
            document = training_view(document)
        text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6)
        out.write_text(text, encoding="utf-8")
