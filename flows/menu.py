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


# What the numbers stand for after "go back to what you were doing?".
RESUME = "resume"
MENU = "menu"


def offering(state: State, offers: dict[str, str]) -> State:
    """An idle state where the given numbers stand for intents (e.g. 1 = register); the
    suspended flow is kept only when one of them goes back to it."""
    kept = state.suspended if RESUME in offers.values() else None
    return State(
        answers=dict(state.answers), suspended=kept, offers=dict(offers), pending=state.pending
    )
