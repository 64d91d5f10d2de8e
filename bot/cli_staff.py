"""Staff accounts for the dashboard: `jobline staff add | list | disable`."""

from __future__ import annotations

import sys

import typer

from bot.cli_caseworker import unit_of_work
from caseworker.staff import Role, StaffError, add_staff, disable_staff, list_staff
from db.models import utcnow

staff_app = typer.Typer(help="Dashboard staff accounts.", no_args_is_help=True)


def read_password() -> str:
    """The new password: one line from stdin when piped, else asked twice at the terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    again = typer.prompt("Password again", hide_input=True)
    if first != again:
        typer.echo("The two passwords differ; nothing was changed.", err=True)
        raise typer.Exit(1)
    return str(first)


@staff_app.command("add")
def staff_add(
    email: str = typer.Argument(..., help="The email they sign in with."),
    role: Role = typer.Option(..., "--role", help="admin (also manages staff) or caseworker."),
    name: str = typer.Option("", "--name", help="Their name, shown in the header."),
    language: str = typer.Option("zh", "--language", help="zh or en: the dashboard's language."),
) -> None:
    """Create a dashboard account; the password comes from stdin or is asked twice."""
    password = read_password()
    with unit_of_work() as (session, _):
        try:
            staff = add_staff(session, email, role, password, utcnow(), name, language)
        except StaffError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        done = f"Added {staff.email} ({staff.role})."
    typer.echo(done)


@staff_app.command("list")
def staff_list() -> None:
    """Every account: email, role, language, active or disabled."""
    with unit_of_work() as (session, _):
        rows = [
            f"{s.email}  {s.role}  {s.language}  {'active' if s.active else 'disabled'}  {s.name}"
            for s in list_staff(session)
        ]
    for row in rows:
        typer.echo(row.rstrip())
    if not rows:
        typer.echo("(no accounts; add one with: jobline staff add EMAIL --role admin)")


@staff_app.command("disable")
def staff_disable(email: str = typer.Argument(..., help="The account's email.")) -> None:
    """Stop an account from signing in; its open sessions end at once."""
    with unit_of_work() as (session, _):
        try:
            staff = disable_staff(session, email)
        except StaffError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
        done = f"Disabled {staff.email}."
    typer.echo(done)
