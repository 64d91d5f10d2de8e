"""`jobline nlu parse|train|eval`: the bot's own understanding, for people who improve the data."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

from bot.settings import SettingsError, get_settings
from nlu.config import REPO_ROOT, NluSettings
from nlu.evaluate import evaluate, format_report, load_examples
from nlu.parse import Parse
from nlu.rasa_view import write_training_data
from nlu.server import RasaSetupError, ensure_model, ensure_venv, rasa_env
from nlu.service import nlu_service

nlu_app = typer.Typer(help="Understand free text with Rasa: parse, train, evaluate.")


def load_nlu_settings() -> NluSettings:
    """The nlu section of Jobline's settings (config.yaml + JOBLINE_NLU__*), or the defaults."""
    try:
        return NluSettings.model_validate(get_settings().nlu.model_dump())
    except SettingsError as error:
        _say(str(error))
        raise typer.Exit(2) from None


def _say(message: str) -> None:
    typer.echo(message, err=True)


def parse_json(parse: Parse) -> str:
    """One Parse as the JSON line `jobline nlu parse` prints."""
    return json.dumps(
        {
            "text": parse.text,
            "intent": parse.intent,
            "confidence": round(parse.confidence, 4),
            "entities": [{"entity": e.entity, "value": e.value} for e in parse.entities],
        },
        ensure_ascii=False,
    )


@nlu_app.command("parse")
def parse_command(
    text: str | None = typer.Argument(None, help="The message. Without it: one per stdin line."),
    expecting: str | None = typer.Option(None, help="What the flow is waiting for, if anything."),
    language: str = typer.Option("en", help="The seeker's language."),
) -> None:
    """Print what Jobline understands from a message, as one JSON object per message."""
    settings = load_nlu_settings()
    with nlu_service(settings, announce=_say, fallback_to_managed=True) as understander:
        lines = [text] if text is not None else (line.rstrip("\r\n") for line in sys.stdin)
        for line in lines:
            parse = understander.understand(line, language, expecting)
            sys.stdout.write(parse_json(parse) + "\n")
            sys.stdout.flush()


@nlu_app.command("train")
def train_command(
    force: bool = typer.Option(False, help="Train even if a model for these files exists."),
) -> None:
    """Train the Rasa model for the current nlu/rasa/ files (only if they changed)."""
    settings = load_nlu_settings()
    started = time.monotonic()
    try:
        model = ensure_model(settings, force=force)
    except RasaSetupError as error:
        _say(str(error))
        raise typer.Exit(1) from None
    _say(f"model {model} ready in {time.monotonic() - started:.0f} s")


@nlu_app.command("eval")
def eval_command(
    file: Path | None = typer.Argument(
        None, help="Labelled messages (Rasa NLU YAML or CSV text,intent) NOT trained on."
    ),
    cross_validation: bool = typer.Option(
        False, "--cross-validation", help="Instead, cross-validate the training data with Rasa."
    ),
    folds: int = typer.Option(3, help="Folds for --cross-validation."),
) -> None:
    """Per-intent precision/recall and the confusions, through the bot's own pipeline."""
    settings = load_nlu_settings()
    if cross_validation:
        raise typer.Exit(_cross_validate(settings, folds))
    if file is None:
        _say("give a FILE of held-out messages, or --cross-validation")
        raise typer.Exit(2)
    examples = load_examples(file)
    with nlu_service(settings, announce=_say, fallback_to_managed=True) as understander:
        report = evaluate(examples, lambda text: understander.understand(text))
    typer.echo(format_report(report))


def _cross_validate(settings: NluSettings, folds: int) -> int:
    try:
        rasa = ensure_venv(settings)
    except RasaSetupError as error:
        _say(str(error))
        return 1
    out = REPO_ROOT / "var" / "rasa-eval"
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "data"  # the examples as Rasa reads them (nlu.rasa_view)
        write_training_data(settings.project_dir / "data", data)
        command = [
            str(rasa), "test", "nlu",
            "--config", str(settings.project_dir / "config.yml"),
            "--nlu", str(data),
            "--cross-validation", "--folds", str(folds),
            "--out", str(out),
        ]  # fmt: skip
        _say(f"cross-validating ({folds} folds); Rasa's reports go to {out}")
        done = subprocess.run(command, env=rasa_env(), cwd=REPO_ROOT, check=False)
    report = out / "intent_report.json"
    if done.returncode == 0 and report.exists():
        typer.echo(_rasa_report(json.loads(report.read_text(encoding="utf-8"))))
    return done.returncode


def _rasa_report(report: dict[str, dict[str, float]]) -> str:
    lines = [f"{'intent':<20} {'precision':>9} {'recall':>7} {'support':>7}"]
    for intent, score in sorted(report.items()):
        if isinstance(score, dict) and "precision" in score and intent != "weighted avg":
            lines.append(
                f"{intent:<20} {score['precision']:>9.2f} {score['recall']:>7.2f}"
                f" {int(score.get('support', 0)):>7}"
            )
    return "\n".join(lines)
