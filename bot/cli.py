"""The `jobline` command: run the service, chat from a terminal, manage seekers."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum

import typer

from bot.channels.base import InboundMessage
from bot.channels.console import ConsoleChannel
from bot.cli_caseworker import applications_app, handoff_app, jobs_app
from bot.cli_common import database_or_exit, settings_or_exit
from bot.cli_nlu import nlu_app
from bot.cli_notify import broadcast_app, fairs_app, outbox_app, seekers_import, worker
from bot.cli_staff import staff_app
from bot.cli_wechat import wechat_app
from bot.conversation import Jobline
from bot.logs import configure_logging
from bot.settings import SettingsError
from caseworker.csv_safe import write_csv
from db.phones import BadPhone, normalize_phone

# How long a worker process may take to answer uvicorn's ping before it is restarted.
WORKER_PING_SECONDS = 30

app = typer.Typer(help="Jobline: a text-message job assistant.", no_args_is_help=True)
seekers_app = typer.Typer(help="Seekers: export, import.", no_args_is_help=True)
app.add_typer(seekers_app, name="seekers")
app.add_typer(jobs_app, name="jobs")
app.add_typer(applications_app, name="applications")
app.add_typer(handoff_app, name="handoff")
app.add_typer(nlu_app, name="nlu")


class Format(StrEnum):
    """Output formats for exports."""

    json = "json"
    csv = "csv"


@app.command()
def run(
    host: str | None = typer.Option(None, help="Address to listen on."),
    port: int | None = typer.Option(None, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="App processes on the one port (more than 1 needs PostgreSQL)."
    ),
) -> None:
    """Run Jobline: the web app, its channels and background services."""
    import uvicorn

    from bot.runtime import build_runtime, check_settings
    from bot.workers import refusal, share_rasa
    from nlu.service import nlu_service

    settings = settings_or_exit()
    refused = refusal(settings, workers)
    if refused is not None:
        typer.echo(refused, err=True)
        raise typer.Exit(2)
    configure_logging(access_log=settings.access_log)
    database = database_or_exit(settings)  # migrated once, here, before any worker starts
    try:
        check_settings(settings)  # before Rasa starts: a bad setting is told at once
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    # The managed Rasa server (nlu.url empty) runs as long as the web app does.
    with nlu_service(settings.nlu, announce=logging.getLogger("jobline.nlu").info) as understander:
        if workers > 1:
            # Each worker process builds its own app and runs its own dispatcher (claims skip
            # rows another holds); they share this process's Rasa server.
            share_rasa(settings)
            database.engine.dispose()
            uvicorn.run(
                "bot.workers:app",
                factory=True,
                workers=workers,
                # uvicorn restarts a worker that does not answer its ping in time; a worker
                # still importing on a busy machine must not count as hung.
                timeout_worker_healthcheck=WORKER_PING_SECONDS,
                host=host or settings.host,
                port=port or settings.port,
                log_level="info",
                log_config=None,
                access_log=settings.access_log != "off",
            )
            return
        web = build_runtime(settings, database, understander)
        uvicorn.run(
            web,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
            log_config=None,  # uvicorn's lines go through the masking formatter too
            access_log=settings.access_log != "off",
        )


@app.command()
def chat(
    phone: str = typer.Option("+8613800000001", help="The phone number you text from."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per reply."),
) -> None:
    """Text Jobline from this terminal, through the same engine and database as SMS."""
    settings = settings_or_exit()
    try:
        address = normalize_phone(phone, settings.phone_region)
    except BadPhone:
        typer.echo(f"Not a phone number: {phone}", err=True)
        raise typer.Exit(2) from None
    database = database_or_exit(settings)
    machine = as_json or not sys.stdin.isatty()
    from nlu.service import nlu_service

    def announce(line: str) -> None:
        typer.echo(line, err=True)

    with nlu_service(settings.nlu, announce=announce, fallback_to_managed=True) as understander:
        jobline = Jobline(settings, database.sessions, understander=understander)
        _converse(jobline, ConsoleChannel(database.sessions, jobline.clock), address, machine)


def _converse(jobline: Jobline, console: ConsoleChannel, address: str, machine: bool) -> None:
    """Read one message per line, answer with what Jobline sends back."""

    def say(text: str) -> None:
        if machine:
            sys.stdout.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        else:
            typer.echo(f"Jobline: {text}\n")

    if not machine:
        typer.echo(f"Texting Jobline as {address}. Ctrl-D to leave.\n")
    while True:
        if not machine:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            break
        received = jobline.handle(InboundMessage("console", address, line.rstrip("\r\n")))
        for row in console.deliver(received.contact_id):
            say(row.text)
        if machine:
            sys.stdout.write(json.dumps({"turn_end": True}) + "\n")
        sys.stdout.flush()


@seekers_app.command("export")
def seekers_export(fmt: Format = typer.Option(Format.json, "--format")) -> None:
    """Print every seeker with their profile (CSV cells are safe to open in a spreadsheet)."""
    from caseworker.seekers import EXPORT_FIELDS, csv_row, export_rows
    from db.models import Seeker

    settings = settings_or_exit()
    database = database_or_exit(settings)
    with database.sessions() as session:
        rows = list(export_rows(session, Seeker.is_test.is_(False)))
    if fmt is Format.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    write_csv(sys.stdout, EXPORT_FIELDS, (csv_row(row) for row in rows))


def main() -> None:
    """Entry point for the console script."""
    app()


# Notifications: fairs, broadcasts, registrant lists, the delivery worker (bot/cli_notify.py).
app.add_typer(fairs_app, name="fairs")
app.add_typer(outbox_app, name="outbox")
app.add_typer(broadcast_app, name="broadcast")
app.add_typer(staff_app, name="staff")
app.add_typer(wechat_app, name="wechat")
seekers_app.command("import")(seekers_import)
app.command()(worker)


if __name__ == "__main__":
    main()
