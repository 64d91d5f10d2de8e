"""Staff accounts: add, list, disable, passwords (argon2) and signing in with throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from db.models import LoginFailure, Staff
from db.problems import Problem

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
REFUSED_FOR = timedelta(minutes=15)
MIN_PASSWORD = 8
LANGUAGES = ("zh", "en")

_hasher = PasswordHasher()
# Checked against when the email is unknown, so both cases take as long.
_NOBODY = _hasher.hash("no such account")


class Role(StrEnum):
    """What a staff member may do: admins also manage staff and read the audit log."""

    admin = "admin"
    caseworker = "caseworker"


class StaffError(Problem):
    """A staff request that cannot be done; the message says why in one line."""


def normal_email(email: str) -> str:
    """An email as stored: trimmed and lower case."""
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(
            f"the password needs at least {MIN_PASSWORD} characters",
            "password_short",
            limit=MIN_PASSWORD,
        )


def add_staff(
    session: Session,
    email: str,
    role: Role,
    password: str,
    now: datetime,
    name: str = "",
    language: str = "zh",
) -> Staff:
    """Create an account; the password is stored only as an argon2 hash."""
    email = normal_email(email)
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise StaffError(f"not an email address: {email!r}", "not_email", given=email)
    if language not in LANGUAGES:
        raise StaffError(
            f"language must be one of: {', '.join(LANGUAGES)}", "bad_language", given=language
        )
    _check_password(password)
    if session.scalar(select(Staff.id).where(Staff.email == email)) is not None:
        raise StaffError(f"there is already an account for {email}", "email_taken", given=email)
    staff = Staff(
        email=email,
        name=name.strip(),
        role=Role(role).value,
        language=language,
        password_hash=_hasher.hash(password),
        created_at=now,
    )
    session.add(staff)
    session.flush()
    return staff


def list_staff(session: Session) -> list[Staff]:
    """Every account, by email."""
    return list(session.scalars(select(Staff).order_by(Staff.email)))


def find_staff(session: Session, email: str) -> Staff:
    """The account with this email, or a StaffError."""
    staff = session.scalar(select(Staff).where(Staff.email == normal_email(email)))
    if staff is None:
        raise StaffError(
            f"no account for {normal_email(email)}", "no_account", given=normal_email(email)
        )
    return staff


def disable_staff(session: Session, email: str) -> Staff:
    """Stop an account from signing in; its open sessions end."""
    staff = find_staff(session, email)
    staff.active = False
    staff.session_generation += 1
    session.flush()
    return staff


def enable_staff(session: Session, email: str) -> Staff:
    """Let a disabled account sign in again."""
    staff = find_staff(session, email)
    staff.active = True
    session.flush()
    return staff


def set_password(session: Session, staff: Staff, password: str) -> None:
    """Change the password; every open session of the account ends."""
    _check_password(password)
    staff.password_hash = _hasher.hash(password)
    staff.session_generation += 1
    session.flush()


class SignInOutcome(StrEnum):
    """How a sign-in attempt went (the page says the same for a wrong email or password)."""

    ok = "ok"
    wrong = "wrong"
    refused = "refused"


@dataclass(frozen=True)
class SignIn:
    """The outcome, and the account when it is ok."""

    outcome: SignInOutcome
    staff: Staff | None = None


def _refused(session: Session, email: str, now: datetime) -> bool:
    last = session.scalar(select(func.max(LoginFailure.at)).where(LoginFailure.email == email))
    if last is None or last <= now - REFUSED_FOR:
        return False
    recent = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == email, LoginFailure.at > last - FAILURE_WINDOW)
    )
    return (recent or 0) >= MAX_FAILURES


def sign_in(session: Session, email: str, password: str, now: datetime) -> SignIn:
    """Check an email and password, refusing an email after too many failures."""
    email = normal_email(email)[:254]
    if _refused(session, email, now):
        return SignIn(SignInOutcome.refused)
    staff = session.scalar(select(Staff).where(Staff.email == email))
    try:
        _hasher.verify(staff.password_hash if staff else _NOBODY, password)
        good = staff is not None and staff.active
    except (VerificationError, InvalidHashError):
        good = False
    if not good or staff is None:
        session.add(LoginFailure(email=email, at=now))
        session.flush()
        return SignIn(
            SignInOutcome.refused if _refused(session, email, now) else SignInOutcome.wrong
        )
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    return SignIn(SignInOutcome.ok, staff)
