"""One seeker across channels that give no phone number (WeChat): the seeker types their
number, gets a 6-digit code by SMS, and typing it back links this chat to the seeker of that
phone. Guarded against guessing: 5 tries, and a code lives 10 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from db.models import Contact, LinkCode
from db.phones import BadPhone, mask_phone, mobile_phone
from flows.catalogue import render
from flows.types import Reply, reply
from nlu.parse import Entity, Parse
from notify import outbox

# Channels whose contacts have no phone number of their own.
CODE_LINKED = frozenset({"wechat"})
TRIES = 5
LIFETIME = timedelta(minutes=10)
SIX_DIGITS = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class CodeStep:
    """What a message did to linking: texts to answer, or the verified phone to link."""

    replies: tuple[Reply, ...] = ()
    linked: Parse | None = None


def step(
    session: Session,
    contact: Contact,
    text: str,
    now: datetime,
    region: str,
    sms_contact: Callable[[str], Contact],
    message_id: int,
) -> CodeStep | None:
    """A typed phone number sends a code; a typed code is checked; None for anything else."""
    said = re.sub(r"[\s-]", "", text)
    pending = session.get(LinkCode, contact.id)
    if pending is not None and SIX_DIGITS.match(said):
        return check(session, pending, said, now)
    if contact.seeker.phone:
        return None
    try:
        phone = mobile_phone(said, region)
    except BadPhone:
        return None
    owner = sms_contact(phone)
    if outbox.opted_out(owner):  # the code would go to a number that asked for no texts
        return CodeStep((reply("link_number_stopped"),))
    code = f"{secrets.randbelow(10**6):06d}"
    if pending is not None:
        session.delete(pending)
        session.flush()
    session.add(
        LinkCode(
            contact_id=contact.id,
            phone=phone,
            code_hash=_hash(contact.id, code),
            expires_at=now + LIFETIME,
            tries=0,
        )
    )
    outbox.queue(
        session,
        contact=owner,
        text=render("link_code_sms", contact.seeker.language, code=code),
        idempotency_key=f"link-code:{message_id}",
        now=now,
    )
    return CodeStep((reply("link_code_sent", phone=mask_phone(phone)),))


def check(session: Session, pending: LinkCode, code: str, now: datetime) -> CodeStep:
    """The typed code against the one texted: link, count a miss, or say it ran out."""
    if pending.expires_at <= now:
        session.delete(pending)
        return CodeStep((reply("link_code_expired"),))
    if pending.tries >= TRIES:
        return CodeStep((reply("link_code_locked"),))
    if hmac.compare_digest(pending.code_hash, _hash(pending.contact_id, code)):
        phone = pending.phone
        session.delete(pending)
        return CodeStep(linked=Parse(phone, "share_phone", entities=(Entity("phone", phone),)))
    pending.tries += 1
    left = TRIES - pending.tries
    if left <= 0:
        return CodeStep((reply("link_code_locked"),))
    return CodeStep((reply("link_code_wrong", tries=str(left)),))


def _hash(contact_id: int, code: str) -> str:
    """The stored form of a code (never the code itself)."""
    return hashlib.sha256(f"{contact_id}:{code}".encode()).hexdigest()
