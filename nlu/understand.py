"""Understanding a message: the keyword fast path first, then Rasa (when it is wired in)."""

from __future__ import annotations

from nlu.keywords import fast_path
from nlu.parse import Parse


class Understander:
    """Turns text into a Parse; never raises."""

    degraded = False

    def understand(self, text: str, language: str = "en", expecting: str | None = None) -> Parse:
        """Fast path answers keywords; other free text is not understood yet."""
        found = fast_path(text, expecting)
        if found is not None:
            return found
        return Parse(text, "text", source="none")
