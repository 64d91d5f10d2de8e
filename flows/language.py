"""Choosing the language of the texts: 1 English, 2 中文, or the language named in the message."""

from __future__ import annotations

from flows.effects import SetLanguage
from flows.menu import show_menu
from flows.types import Context, Reply, State, Turn, reply
from nlu.keywords import normalize
from nlu.parse import Parse

# What a seeker may type to name a language, and the catalogue language it means.
NAMES = {
    "english": "en",
    "英文": "en",
    "英语": "en",
    "chinese": "zh",
    "中文": "zh",
    "汉语": "zh",
    "普通话": "zh",
}
NUMBERS = {"1": "en", "2": "zh"}
STEP = "which"


def named_language(text: str) -> str | None:
    """The language a message names, if it names exactly one."""
    said = normalize(text)
    found = {code for name, code in NAMES.items() if name in said}
    return found.pop() if len(found) == 1 else None


def switched(state: State, language: str) -> Turn:
    """Set the language; the confirmation and menu are rendered in the new one."""
    menu = show_menu(state, Reply("language_set"))
    return Turn(menu.state, menu.replies, (SetLanguage(language),))


class Language:
    """Ask which language, or switch at once when the message names it."""

    name = "language"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """Switch when the message names a language, else ask."""
        language = named_language(parse.text)
        if language is not None:
            return switched(state, language)
        asking = state.idle().at(self.name, STEP)
        return Turn(asking, (self.ask_current(ctx, asking),))

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """1 English, 2 中文, or the language's name."""
        language = NUMBERS.get(parse.entity("number") or "") or named_language(parse.text)
        return None if language is None else switched(state, language)

    def back(self, ctx: Context, state: State) -> Turn | None:
        """One question: back is the menu."""
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """Ask again."""
        return reply("ask_language", "1 English", "2 中文")

    def expecting(self, state: State) -> str:
        """A number from the list."""
        return "choice"

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """1 English, 2 中文."""
        return reply("ask_language", "1 English", "2 中文")
