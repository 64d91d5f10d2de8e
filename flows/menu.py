"""The main menu: numbers that lead to each service, the same numbers everywhere."""

from __future__ import annotations

from flows.share_buttons import SEND_LOCATION
from flows.types import Reply, State, Turn, reply

# Menu number -> the intent it stands for. 0 (back) and 9 (a person) are global.
MENU_OFFERS = {
    "1": "find_jobs",
    "2": "application_status",
    "3": "job_fair",
    "4": "loan_eligibility",
    "5": "register",
    "6": "concession_card",
}
MENU_BUTTONS = (
    "1 Jobs near you",
    "2 My applications",
    "3 Job fairs",
    "4 Loan",
    "5 My details",
    "6 Card and training",
    "9 Talk to a person",
)


def menu_reply() -> Reply:
    """The menu text with its buttons."""
    return reply("menu", *MENU_BUTTONS, SEND_LOCATION)


def show_menu(state: State, *before: Reply) -> Turn:
    """Leave any flow and show the menu."""
    return Turn(offering(state.idle(), MENU_OFFERS), (*before, menu_reply()))


def offering(state: State, offers: dict[str, str]) -> State:
    """An idle state where the given numbers stand for intents (e.g. 1 = register)."""
    answers = {k: v for k, v in state.answers.items() if k != "_suspended"}
    if "_resume" in offers.values():
        answers["_suspended"] = state.answers["_suspended"]
    return State(answers={**answers, "_offers": offers})
