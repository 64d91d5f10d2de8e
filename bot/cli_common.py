"""What every `jobline` command starts with: the settings and the database, or a one-line reason."""

from __future__ import annotations

import typer

from bot.database import Database, open_database
from bot.settings import Settings, SettingsError, get_settings


def settings_or_exit() -> Settings:
    """Load settings, or stop with the one-line reason."""
    try:
        return get_settings()
    except SettingsError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


def database_or_exit(settings: Settings) -> Database:
    """Open the database, or stop with the one-line reason."""
    try:
        return open_database(settings)
    except Exception as error:  # start-up must say why in one line, not a trace
        typer.echo(f"Cannot open the database at database_url: {error}", err=True)
        raise typer.Exit(2) from None
