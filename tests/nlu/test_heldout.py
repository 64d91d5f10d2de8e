"""Held-out messages stay held out: none is in the training data, and the sets are what they say."""

from __future__ import annotations

from pathlib import Path

from nlu.config import REPO_ROOT
from nlu.evaluate import load_examples

HELDOUT = REPO_ROOT / "nlu" / "heldout"
TRAINING = REPO_ROOT / "nlu" / "rasa" / "data"
# CLINC150 intents that Jobline answers itself, so they are not out-of-domain for it.
OURS = {"greeting", "goodbye", "thank_you", "yes", "no", "cancel", "what_can_i_ask_you"}
OURS |= {"change_language", "change_user_name"}


def _texts(path: Path) -> set[str]:
    return {example.text.lower().strip() for example in load_examples(path)}


def test_no_held_out_message_is_trained_on() -> None:
    trained: set[str] = set()
    for path in sorted(TRAINING.glob("*.yml")):
        trained |= _texts(path)
    for path in sorted(HELDOUT.glob("*.yml")) + sorted(HELDOUT.glob("*.tsv")):
        assert not _texts(path) & trained, path.name


def test_the_clinc150_set_is_large_everyday_and_out_of_scope() -> None:
    path = HELDOUT / "clinc_ood_test.tsv"
    rows = [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    examples = load_examples(path)
    assert len(examples) == len(rows) >= 1000
    assert {example.intent for example in examples} == {"out_of_scope"}
    assert all(len(row) == 2 and row[0] for row in rows)
    assert len({row[1] for row in rows}) == 141
    assert not {row[1] for row in rows} & OURS
    assert "CC BY 3.0" in path.read_text(encoding="utf-8").splitlines()[1]
