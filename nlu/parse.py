"""What Jobline understood from one message: an intent, a confidence and entities."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entity:
    """One thing named in a message, with its canonical value (e.g. location=Daoli)."""

    entity: str
    value: str


@dataclass(frozen=True)
class Parse:
    """The understanding of one message, from the keyword fast path or from Rasa."""

    text: str
    intent: str
    confidence: float = 1.0
    entities: tuple[Entity, ...] = field(default_factory=tuple)
    source: str = "keywords"

    def entity(self, name: str) -> str | None:
        """Return the first value of the named entity, if any."""
        for found in self.entities:
            if found.entity == name:
                return found.value
        return None
