"""Models are named by a hash of nlu/rasa/ and trained only when those files change."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nlu.config import NluSettings
from nlu.server import RasaSetupError, ensure_model, model_path, project_hash, rasa_env


def copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "rasa"
    shutil.copytree(NluSettings().project_dir, project, ignore=shutil.ignore_patterns(".rasa"))
    return project


def test_the_hash_follows_the_training_files(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    before = project_hash(project)
    assert project_hash(project) == before
    (project / "models").mkdir(exist_ok=True)
    (project / "models" / "old.tar.gz").write_bytes(b"x")
    assert project_hash(project) == before, "trained models must not change the hash"
    with (project / "data" / "nlu.yml").open("a", encoding="utf-8") as data:
        data.write("    - one more example\n")
    assert project_hash(project) != before


def test_an_existing_model_is_reused_without_rasa(tmp_path: Path) -> None:
    settings = NluSettings(
        project_dir=copy_project(tmp_path),
        models_dir=tmp_path / "models",
        venv=tmp_path / "no-venv-here",
        model_cache=str(tmp_path / "cache"),
    )
    target = model_path(settings)
    assert target.name == f"nlu-{project_hash(settings.project_dir)}.tar.gz"
    target.parent.mkdir()
    target.write_bytes(b"a trained model")
    assert ensure_model(settings) == target
    assert (tmp_path / "cache" / target.name).read_bytes() == b"a trained model", "shared"


def test_a_new_checkout_copies_the_shared_model_instead_of_training(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    name = f"nlu-{project_hash(project)}.tar.gz"
    (cache / name).write_bytes(b"a model another checkout trained")
    (cache / "nlu-0123456789abcdef.tar.gz").write_bytes(b"a model of other data")
    settings = NluSettings(
        project_dir=project,
        models_dir=tmp_path / "fresh-checkout" / "models",
        venv=tmp_path / "no-venv-here",  # training would fail: there is no Rasa here
        model_cache=str(cache),
    )
    target = ensure_model(settings)
    assert target == settings.models_dir / name
    assert target.read_bytes() == b"a model another checkout trained"
    assert [p.name for p in settings.models_dir.glob("*.tar.gz")] == [name]
    assert not list(settings.models_dir.glob("*.part")), "no half-copied file is left"
    assert target.stat().st_mode & 0o777 == (cache / name).stat().st_mode & 0o777


def test_without_a_cache_a_missing_model_is_trained(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"nlu-{project_hash(project)}.tar.gz").write_bytes(b"not to be used")
    settings = NluSettings(
        project_dir=project,
        models_dir=tmp_path / "models",
        venv=tmp_path / "no-venv-here",
        model_cache="",
    )
    with pytest.raises(RasaSetupError):  # it went to train, and there is no Rasa to train with
        ensure_model(settings)


def test_relative_paths_are_from_the_project_root() -> None:
    settings = NluSettings.model_validate({"models_dir": "var/elsewhere"})
    assert settings.models_dir.is_absolute()
    assert settings.models_dir.parts[-2:] == ("var", "elsewhere")


def test_rasa_gets_only_the_environment_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBLINE_TWILIO__AUTH_TOKEN", "twilio-secret")
    monkeypatch.setenv("JOBLINE_TELEGRAM__TOKEN", "123:bot-secret")
    monkeypatch.setenv("DATABASE_PASSWORD", "db-secret")
    env = rasa_env()
    assert "twilio-secret" not in env.values() and "123:bot-secret" not in env.values()
    assert "db-secret" not in env.values()
    assert env["PATH"] == os.environ["PATH"]
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_rasa_runs_with_two_malloc_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "64")  # ours is set, not taken from the caller
    assert rasa_env()["MALLOC_ARENA_MAX"] == "2"
