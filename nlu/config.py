"""Settings for understanding free text: where Rasa is, how long to wait, how sure to be."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

REPO_ROOT = Path(__file__).resolve().parents[1]


class NluSettings(BaseModel):
    """The `nlu:` section of config.yaml (JOBLINE_NLU__* in the environment)."""

    url: str = Field(
        default="",
        description="An external Rasa server (e.g. http://rasa:5005). Empty: Jobline runs its own.",
    )
    auth_token: str = Field(
        default="",
        description="The external server's --auth-token (JOBLINE_NLU__AUTH_TOKEN only).",
    )
    managed_host: str = Field(default="127.0.0.1", description="Where the managed server listens.")
    managed_port: int = Field(default=5005, description="Port of the managed server.")
    timeout_seconds: float = Field(default=2.0, description="Longest wait for one Rasa answer.")
    threshold: float = Field(
        default=0.5, description="Below this Rasa confidence a message is out_of_scope."
    )
    domain_confidence: float = Field(
        default=0.95,
        description="A job intent with no sign of work (a job word, place, kind of work or menu)"
        " needs this Rasa confidence, else it is out_of_scope; 0 turns the gate off.",
    )
    ambiguity: float = Field(
        default=0.0,
        description="Out_of_scope when the top two intents are closer than this (0: off).",
    )
    overrule_words: int = Field(
        default=6,
        description="A text of at least this many words that Rasa calls out_of_scope, with a job"
        " word and a place, kind of work or relative named, gets the job intent its words point"
        " to; so does a Chinese text of any length with a request word (找活, 招工...) (0: off).",
    )
    managed: bool = Field(
        default=True, description="Start a Rasa server from .venv-rasa when url is empty."
    )
    start_timeout_seconds: float = Field(
        default=180.0, description="Longest wait for the managed server to answer at start."
    )
    retry_after_seconds: float = Field(
        default=5.0, description="After Rasa fails, answer from the fast path this long first."
    )
    max_chars: int = Field(
        default=500, description="Rasa sees only this many characters of a message."
    )
    venv: Path = Field(default=REPO_ROOT / ".venv-rasa", description="Rasa's own Python 3.10 venv.")
    project_dir: Path = Field(default=REPO_ROOT / "nlu" / "rasa", description="The Rasa project.")
    models_dir: Path = Field(
        default=REPO_ROOT / "var" / "rasa-models", description="Trained models, named by hash."
    )

    model_cache: str = Field(
        default="~/.cache/jobline/rasa-models",
        description="Models shared by every checkout on this machine, named by the same hash:"
        " a checkout copies its model from here instead of training it again (empty: none).",
    )

    @field_validator("venv", "project_dir", "models_dir")
    @classmethod
    def _from_repo_root(cls, value: Path) -> Path:
        return value if value.is_absolute() else REPO_ROOT / value

    def base_url(self) -> str:
        """The Rasa server to talk to: the external one, else the managed one."""
        return (
            self.url.rstrip("/") if self.url else f"http://{self.managed_host}:{self.managed_port}"
        )
