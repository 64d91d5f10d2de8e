"""`jobline wechat`: the Official Account's custom menu."""

from __future__ import annotations

import asyncio
import json

import typer

from bot.channels.wechat import set_menu, wechat_api, wechat_enabled
from bot.cli_common import database_or_exit, settings_or_exit
from db.models import utcnow

wechat_app = typer.Typer(help="The WeChat Official Account.", no_args_is_help=True)


@wechat_app.command("menu")
def menu(language: str = typer.Option("zh", help="zh or en")) -> None:
    """Set the account's menu to the services the text menu offers (jobs, fairs, loan, ...)."""
    settings = settings_or_exit()
    if not wechat_enabled(settings):
        typer.echo("WeChat is off: set wechat.app_id (JOBLINE_WECHAT__APP_ID).", err=True)
        raise typer.Exit(2)
    database = database_or_exit(settings)
    api = wechat_api(settings, database.sessions, utcnow)

    async def go() -> dict[str, object]:
        try:
            return await set_menu(api, language)
        finally:
            await api.close()

    answer = asyncio.run(go())
    if answer.get("errcode", 0) != 0:
        typer.echo(f"WeChat refused the menu: {json.dumps(answer, ensure_ascii=False)}", err=True)
        raise typer.Exit(1)
    typer.echo("menu set")
