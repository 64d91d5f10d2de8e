"""Settings for the dashboard: the key that signs staff sessions."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field

REPO_ROOT = Path(__file__).resolve().parents[2]


class DashboardSettings(BaseModel):
    """The `dashboard:` section of config.yaml (JOBLINE_DASHBOARD__* in the environment)."""

    secret_key: str = Field(
        default="",
        description="Signs session cookies; environment only. Empty: a key kept in key_file.",
    )
    key_file: Path = Field(
        default=REPO_ROOT / "var" / "dashboard-secret",
        description="Where a generated signing key is kept when secret_key is empty.",
    )
    idle_hours: float = Field(default=8.0, description="A session ends after this long idle.")


def signing_key(settings: DashboardSettings) -> bytes:
    """The session signing key: from the environment, else generated once and kept on disk."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.key_file if settings.key_file.is_absolute() else REPO_ROOT / settings.key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{os.getpid()}")
        fresh.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        fresh.chmod(0o600)
        try:
            os.link(fresh, path)  # first writer wins; a racing process reads the winner's key
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    return path.read_text(encoding="utf-8").strip().encode()
