"""Caseworker commands: `jobline jobs ...`, `jobline applications ...`, `jobline handoff ...`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from bot.cli_common import database_or_exit, settings_or_exit
from bot.settings import Settings
from caseworker.casework import (
    CaseworkError,
    close_handoff,
    list_applications,
    open_handoffs,
    reply_to_seeker,
    set_stage,
)
from caseworker.csv_safe import write_csv
from caseworker.jobs import JobFilter, close_post, find_posts, import_posts, report_lines
from db.models import utcnow
from db.session import transaction
from reference import load_reference

jobs_app = typer.Typer(help="Job posts: import from CSV, list, close.", no_args_is_help=True)
applications_app = typer.Typer(help="Applications: list, move a stage.", no_args_is_help=True)
handoff_app = typer.Typer(help="Seekers who asked for a person.", no_args_is_help=True)


class ListFormat(StrEnum):
    """How lists are printed."""

    table = "table"
    json = "json"
    csv = "csv"


@contextmanager
def unit_of_work(failure: int = 1) -> Iterator[tuple[Session, Settings]]:
    """Settings, the database and one transaction; a one-line reason and exit code on failure."""

    settings = settings_or_exit()
    database = database_or_exit(settings)
    try:
        with transaction(database.sessions) as session:
            yield session, settings
    except CaseworkError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(failure) from None
    finally:
        database.engine.dispose()


def _print_rows(rows: list[dict[str, object]], fmt: ListFormat, columns: tuple[str, ...]) -> None:
    if fmt is ListFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt is ListFormat.csv:
        write_csv(sys.stdout, columns, rows)
        return
    for row in rows:
        typer.echo("  ".join(str(row[name]) for name in columns))
    if not rows:
        typer.echo("(none)")


@jobs_app.command("import")
def jobs_import(file: Path = typer.Argument(..., help="CSV file, UTF-8 or GBK.")) -> None:
    """Add and update posts from a CSV; says which rows were rejected and why."""
    try:
        data = file.read_bytes()
    except OSError as error:
        typer.echo(f"Cannot read {file}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    with unit_of_work(failure=2) as (session, _):
        report = import_posts(session, data, load_reference(), utcnow(), whole_file=False)
    typer.echo("\n  ".join(report_lines(report)))
    if report.rejected:
        raise typer.Exit(1)


JOB_COLUMNS = ("code", "title", "employer", "category", "place", "pay_yuan_month")
JOB_COLUMNS_ALL = (*JOB_COLUMNS, "hours", "suits", "public_welfare", "openings", "status")


@jobs_app.command("list")
def jobs_list(
    fmt: ListFormat = typer.Option(ListFormat.table, "--format"),
    search: str = typer.Option("", help="Words in the code, title or employer."),
    place: str = typer.Option("", help="Only posts in this place, e.g. Daoli."),
    category: str = typer.Option("", help="Only this kind of work, e.g. cleaning."),
    status: str = typer.Option("", help="open or withdrawn."),
) -> None:
    """Posts with their place, pay and status."""
    wanted = JobFilter(search, place, category, status)
    with unit_of_work() as (session, _):
        rows: list[dict[str, object]] = [
            {name: getattr(post, name) for name in JOB_COLUMNS_ALL}
            for post in find_posts(session, wanted, per_page=None).posts
        ]
    _print_rows(
        rows, fmt, JOB_COLUMNS_ALL if fmt is not ListFormat.table else (*JOB_COLUMNS, "status")
    )


@jobs_app.command("close")
def jobs_close(code: str = typer.Argument(..., help="The post's code.")) -> None:
    """Withdraw a post: seekers no longer see it; its applications stay."""
    with unit_of_work() as (session, _):
        post = close_post(session, code)
        done = f"{post.code} is closed"
    typer.echo(done)


APPLICATION_COLUMNS = (
    "reference",
    "phone",
    "name",
    "job_code",
    "title",
    "stage",
    "stage_changed_at",
)


@applications_app.command("list")
def applications_list(fmt: ListFormat = typer.Option(ListFormat.table, "--format")) -> None:
    """Every application with its stage."""
    with unit_of_work() as (session, _):
        rows = list_applications(session)
    _print_rows(rows, fmt, APPLICATION_COLUMNS)


@applications_app.command("set-stage")
def applications_set_stage(
    reference: str = typer.Argument(..., help="The seeker's reference, e.g. A7K2."),
    stage: str = typer.Argument(..., help="submitted, seen, interview, hired or not_selected."),
) -> None:
    """Move an application on; the seeker gets one text about it."""
    with unit_of_work() as (session, _):
        application = set_stage(session, reference, stage, utcnow())
        done = f"{application.reference} is now {application.stage}"
    typer.echo(done)


@handoff_app.command("list")
def handoff_list() -> None:
    """Seekers waiting for a person, oldest first."""
    with unit_of_work() as (session, _):
        waiting = open_handoffs(session)
    for item in waiting:
        typer.echo(
            f"{item.phone}  {item.name or '-'}  {item.channel}  "
            f"{item.opened_at:%Y-%m-%d %H:%M}  {item.last_message!r}"
        )
    if not waiting:
        typer.echo("(nobody is waiting)")


@handoff_app.command("reply")
def handoff_reply(
    phone: str = typer.Argument(..., help="The seeker's phone number."),
    text: str = typer.Argument(..., help="What to tell them."),
) -> None:
    """Text the seeker; it reaches them on the channel they last used."""
    with unit_of_work() as (session, settings):
        reply_to_seeker(session, phone, text, settings.phone_region, utcnow())
    typer.echo("Queued.")


@handoff_app.command("close")
def handoff_close(phone: str = typer.Argument(..., help="The seeker's phone number.")) -> None:
    """Finish: the bot answers the seeker again."""
    with unit_of_work() as (session, settings):
        close_handoff(session, phone, settings.phone_region, utcnow())
    typer.echo("Closed; the seeker is back with Jobline.")
