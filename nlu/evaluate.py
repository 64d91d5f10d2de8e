"""Measure understanding on labelled messages: accuracy, per-intent precision/recall, confusions."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.gazetteer import Gazetteer, default_gazetteer
from nlu.parse import Entity, Parse
from nlu.understand import JOB_INTENTS, OUT_OF_SCOPE

# [shown text](entity) or [shown text]{"entity": "x", "value": "y"}
_ANNOTATION = re.compile(r"\[([^\]]+)\](\(([^)]+)\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One labelled message: what a seeker wrote and what it means."""

    text: str
    intent: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class IntentScore:
    """Precision and recall of one intent."""

    intent: str
    precision: float
    recall: float
    support: int


@dataclass
class Report:
    """The result of one evaluation run."""

    total: int = 0
    correct: int = 0
    entity_total: int = 0
    entity_correct: int = 0
    scores: list[IntentScore] = field(default_factory=list)
    confusions: list[tuple[Example, Parse]] = field(default_factory=list)
    job_intent_count: int = 0

    @property
    def accuracy(self) -> float:
        """Share of messages whose intent was right."""
        return self.correct / self.total if self.total else 0.0

    @property
    def entity_accuracy(self) -> float:
        """Share of annotated entities found with the right canonical value."""
        return self.entity_correct / self.entity_total if self.entity_total else 1.0

    @property
    def job_intent_rate(self) -> float:
        """Share of messages given a job-domain intent (the false-job rate for unrelated text)."""
        return self.job_intent_count / self.total if self.total else 0.0


def load_examples(path: Path, gazetteer: Gazetteer | None = None) -> list[Example]:
    """Read labelled messages from Rasa NLU YAML, CSV (text,intent) or out-of-domain TSV lines."""
    if path.suffix == ".tsv":  # text<TAB>where it came from; '#' lines are comments
        lines = path.read_text(encoding="utf-8").splitlines()
        return [
            Example(line.split("\t")[0], OUT_OF_SCOPE)
            for line in lines
            if line.strip() and not line.startswith("#")
        ]
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return [Example(row["text"], row["intent"]) for row in csv.DictReader(handle)]
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(_example(line[2:].strip(), block["intent"], gazetteer))
    return examples


def _example(annotated: str, intent: str, gazetteer: Gazetteer | None) -> Example:
    gazetteer = gazetteer or default_gazetteer()
    entities: list[Entity] = []
    for match in _ANNOTATION.finditer(annotated):
        name = match.group(3)
        if name:
            value = gazetteer.canonical(name, match.group(1)) or match.group(1)
            entities.append(Entity(name, value))
    text = _ANNOTATION.sub(lambda m: m.group(1), annotated)
    return Example(text, intent, tuple(entities))


def evaluate(examples: Iterable[Example], understand: Callable[[str], Parse]) -> Report:
    """Run every example through understand and score it."""
    report = Report()
    predicted: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for example in examples:
        parse = understand(example.text)
        report.total += 1
        expected[example.intent] += 1
        predicted[parse.intent] += 1
        if parse.intent in JOB_INTENTS:
            report.job_intent_count += 1
        if parse.intent == example.intent:
            report.correct += 1
            hits[example.intent] += 1
        else:
            report.confusions.append((example, parse))
        for entity in example.entities:
            report.entity_total += 1
            report.entity_correct += entity in parse.entities
    for intent in sorted(set(expected) | set(predicted)):
        report.scores.append(
            IntentScore(
                intent,
                precision=hits[intent] / predicted[intent] if predicted[intent] else 0.0,
                recall=hits[intent] / expected[intent] if expected[intent] else 0.0,
                support=expected[intent],
            )
        )
    return report


def format_report(report: Report) -> str:
    """A plain-text table of the report, then the confusion list."""
    lines = [
        f"intent accuracy {report.accuracy:.1%} ({report.correct}/{report.total}); "
        f"entities {report.entity_accuracy:.1%} ({report.entity_correct}/{report.entity_total})",
        "",
        f"{'intent':<20} {'precision':>9} {'recall':>7} {'support':>7}",
    ]
    for score in report.scores:
        lines.append(
            f"{score.intent:<20} {score.precision:>9.2f} {score.recall:>7.2f} {score.support:>7}"
        )
    if report.confusions:
        lines += ["", "confusions (expected -> got, confidence: text)"]
        for example, parse in report.confusions:
            lines.append(
                f"  {example.intent} -> {parse.intent} {parse.confidence:.2f}: {example.text}"
            )
    return "\n".join(lines)
