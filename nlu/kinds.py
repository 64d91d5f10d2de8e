"""Understanding what chat apps send besides typed text: a /command, a contact, a location."""

from __future__ import annotations

from collections.abc import Callable

from nlu.parse import Entity, Parse

# `/start fair_<id>`: a poster's QR code opens the chat at that fair.
FAIR_PAYLOAD = "fair_"
# A fair id from a QR code fits in a database integer; anything longer is not ours.
MAX_ID_DIGITS = 9


def parse_kind(kind: str, text: str, understand: Callable[[str], Parse]) -> Parse:
    """The Parse of a message that is not plain text; anything unknown is 'not_text'."""
    if kind == "command":
        return parse_command(text, understand)
    if kind == "contact":
        return Parse(text, "share_phone", entities=(Entity("phone", text),))
    if kind == "foreign_contact":
        return Parse(text, "foreign_contact")
    if kind == "location":
        lat, _, lon = text.partition(",")
        try:
            entities = (Entity("lat", str(float(lat))), Entity("lon", str(float(lon))))
        except ValueError:
            return Parse(text, "not_text")
        return Parse(text, "location", entities=entities)
    return Parse(text, "not_text")


def parse_command(text: str, understand: Callable[[str], Parse]) -> Parse:
    """/start [payload] opens Jobline (or a fair from a QR code); /help, /menu... are words."""
    word, _, payload = text.strip().partition(" ")
    name = word[1:].split("@", 1)[0].lower()
    payload = payload.strip()
    if name == "start":
        fair = payload[len(FAIR_PAYLOAD) :] if payload.startswith(FAIR_PAYLOAD) else ""
        if fair.isascii() and fair.isdigit() and len(fair) <= MAX_ID_DIGITS:
            return Parse(text, "job_fair", entities=(Entity("fair_id", str(int(fair))),))
        return Parse(text, "chat_start")
    return understand(f"{name} {payload}".strip())
