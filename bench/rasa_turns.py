"""How many texts still reach Rasa: the held-out seeker sets and the registration workload.

Before: the keyword fast path as it was (no question-aware rules, no cache), so every text it
could not read went to Rasa. After: the Understander as it runs, with the birth-year and
place-name rules and its cache of Rasa's answers. No Rasa server is needed: the stand-in only
counts what is asked (and answers out_of_scope).

    .venv/bin/python bench/rasa_turns.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlu.client import RasaResult
from nlu.config import REPO_ROOT
from nlu.evaluate import load_examples
from nlu.keywords import fast_path
from nlu.understand import Understander, clean_text

HELDOUT = sorted((REPO_ROOT / "nlu" / "heldout").glob("seekers*.yml"))
# The registration conversation of bench/conversations.py, with what each step expects.
WORKLOAD = (
    ("hi", None),
    ("register", None),
    ("Wang Fang", "text"),
    ("1978", "year"),
    ("Daoli", "choice"),
    ("jobs", None),
)
CONVERSATIONS = 200


class Counting:
    """A Rasa stand-in that only counts the texts it is asked about."""

    def __init__(self) -> None:
        self.asked = 0

    def parse(self, text: str) -> RasaResult:
        """Count, and say nothing useful."""
        self.asked += 1
        return RasaResult("out_of_scope", 0.1, ())


def before(texts: list[tuple[str, str | None]]) -> int:
    """Texts the fast path alone could not read (each went to Rasa)."""
    return sum(1 for text, expecting in texts if old_fast_path(clean_text(text), expecting))


def old_fast_path(text: str, expecting: str | None) -> bool:
    """True when the earlier fast path left the text to Rasa (a year was never read)."""
    return fast_path(text, None if expecting == "year" else expecting) is None


def after(texts: list[tuple[str, str | None]]) -> int:
    """Texts the Understander sends to Rasa now."""
    client = Counting()
    understander = Understander(client)
    for text, expecting in texts:
        understander.understand(text, "en", expecting)
    return client.asked


def line(name: str, texts: list[tuple[str, str | None]]) -> None:
    old, new = before(texts), after(texts)
    print(
        f"{name:<28} {len(texts):>5} texts: to Rasa before {old:>5} ({old / len(texts):5.1%}), "
        f"after {new:>5} ({new / len(texts):5.1%}); ratio after/before {new / max(old, 1):.2f}"
    )


def main() -> None:
    everything: list[tuple[str, str | None]] = []
    for path in HELDOUT:
        texts: list[tuple[str, str | None]] = [(e.text, None) for e in load_examples(path)]
        everything += texts
        line(path.name, texts)
    line("all held-out seeker sets", everything)
    line(f"workload x{CONVERSATIONS}", list(WORKLOAD) * CONVERSATIONS)


if __name__ == "__main__":
    main()
