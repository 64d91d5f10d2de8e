"""The managed Rasa server: its venv, a model trained only when nlu/rasa/ changes, a watchdog."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from nlu.client import RasaClient, RasaError
from nlu.config import REPO_ROOT, NluSettings
from nlu.rasa_view import VIEW, write_training_data

log = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
KEEP_MODELS = 3
_PROJECT_FILES = ("config.yml", "domain.yml")


class RasaSetupError(RuntimeError):
    """The Rasa venv or model could not be made ready."""


def project_files(project_dir: Path) -> list[Path]:
    """The files a model is trained from: config, domain and every data file."""
    files = [project_dir / name for name in _PROJECT_FILES]
    files += sorted(p for p in (project_dir / "data").rglob("*") if p.is_file())
    return files


def project_hash(project_dir: Path) -> str:
    """A content hash of the Rasa project and of its view, naming the model trained from it."""
    digest = hashlib.sha256(f"rasa {RASA_VERSION}\nview {VIEW}\n".encode())
    for path in project_files(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: NluSettings) -> Path:
    """Where the model for the current project files is (or will be)."""
    return settings.models_dir / f"nlu-{project_hash(settings.project_dir)}.tar.gz"


def rasa_executable(settings: NluSettings) -> Path:
    """The `rasa` command inside the isolated venv."""
    return settings.venv / "bin" / "rasa"


# What Rasa needs from our environment; nothing else (never JOBLINE_* secrets) is passed on.
RASA_NEEDS = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SSL_CERT_FILE")


def rasa_env() -> dict[str, str]:
    """Environment for Rasa subprocesses: only what it needs, no telemetry, quiet TensorFlow."""
    env = {name: os.environ[name] for name in RASA_NEEDS if name in os.environ}
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        # glibc gives each thread that allocates an arena of its own (up to 8 per core), and
        # TensorFlow's and Sanic's threads each keep theirs: with two, the server's RSS was
        # 14 MB lower in one run and the same in another, parses no slower (README Speed).
        MALLOC_ARENA_MAX="2",
    )
    return env


def ensure_venv(settings: NluSettings) -> Path:
    """Return the rasa command, creating .venv-rasa through `make .venv-rasa` if missing."""
    rasa = rasa_executable(settings)
    if rasa.exists():
        return rasa
    if not (REPO_ROOT / "Makefile").exists():
        raise RasaSetupError(f"{rasa} is missing; create it with `make .venv-rasa`")
    log.info("creating the Rasa environment (.venv-rasa); this takes a few minutes once")
    done = subprocess.run(["make", "-C", str(REPO_ROOT), ".venv-rasa"], check=False)
    if done.returncode != 0 or not rasa.exists():
        raise RasaSetupError("`make .venv-rasa` failed; see its output above")
    return rasa


@contextlib.contextmanager
def _train_lock(models_dir: Path) -> Iterator[None]:
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _cache_dir(settings: NluSettings) -> Path | None:
    """The machine's shared model cache, or None when it is turned off."""
    return Path(settings.model_cache).expanduser() if settings.model_cache else None


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy a model so that no reader ever sees half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as part:
        scratch = Path(part.name)
    try:
        shutil.copy2(source, scratch)  # the model's own mode, not the scratch file's 0600
        os.replace(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)


def _share(settings: NluSettings, model: Path) -> None:
    """Put a model in the shared cache if it is not there yet; a cache that fails is skipped."""
    cache = _cache_dir(settings)
    if cache is None or (cache / model.name).exists():
        return
    try:
        _copy_atomically(model, cache / model.name)
    except OSError as error:
        log.warning("could not share %s in %s: %s", model.name, cache, error)


def ensure_model(settings: NluSettings, *, force: bool = False) -> Path:
    """Return the model for the current project files, training it only if none has it."""
    target = model_path(settings)
    if target.exists() and not force:
        _share(settings, target)
        return target
    with _train_lock(settings.models_dir):
        if target.exists() and not force:
            return target  # another process trained it while we waited
        cache = _cache_dir(settings)
        if cache is not None and (cache / target.name).exists() and not force:
            log.info("copying the Rasa NLU model %s from %s", target.name, cache)
            _copy_atomically(cache / target.name, target)
            _prune(settings.models_dir, keep=target)
            return target
        rasa = ensure_venv(settings)
        log.info("training the Rasa NLU model %s", target.name)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=settings.models_dir) as scratch:
            data = Path(scratch) / "data"  # the committed examples as Rasa reads them
            write_training_data(settings.project_dir / "data", data)
            command = [
                str(rasa), "train", "nlu",
                "--config", str(settings.project_dir / "config.yml"),
                "--domain", str(settings.project_dir / "domain.yml"),
                "--nlu", str(data),
                "--out", scratch,
                "--fixed-model-name", "model",
            ]  # fmt: skip
            with open(settings.models_dir / "train.log", "w") as out:
                done = subprocess.run(
                    command, cwd=scratch, env=rasa_env(), stdout=out, stderr=subprocess.STDOUT
                )
            trained = Path(scratch) / "model.tar.gz"
            if done.returncode != 0 or not trained.exists():
                raise RasaSetupError(f"rasa train failed; see {settings.models_dir / 'train.log'}")
            os.replace(trained, target)
        log.info("trained %s in %.0f s", target.name, time.monotonic() - started)
        _prune(settings.models_dir, keep=target)
    _share(settings, target)
    return target


def _prune(models_dir: Path, keep: Path) -> None:
    models = sorted(models_dir.glob("nlu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in [m for m in models if m != keep][: max(0, len(models) - KEEP_MODELS)]:
        old.unlink(missing_ok=True)


def _die_with_parent() -> None:
    """In the child: end Rasa if the Jobline thread that started it dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# Starts `rasa run` with the auth token read from stdin, so it is not on the command line
# (which every local user can read in /proc). `--auth-token=` joins the value: a token that
# starts with "-" (1 in 64 of token_urlsafe's) was otherwise read as an option and Rasa exited.
#
# Serving never needs jax or h5py, which TensorFlow imports only where a failed import is caught
# (TFLite's jax converter, Keras's HDF5 files; Rasa saves its models in TensorFlow's own format):
# refusing them keeps 76 MB out of the server (README Speed).
NOT_SERVED = ("jax", "h5py")
LAUNCH = (
    f"import sys; sys.modules.update(dict.fromkeys({NOT_SERVED!r})); "
    "from rasa.__main__ import main; "
    "sys.argv = ['rasa', *sys.argv[1:], '--auth-token=' + sys.stdin.readline().strip()]; main()"
)


def token_file(settings: NluSettings) -> Path:
    """Where a managed server's token is kept for other Jobline commands (mode 0600)."""
    return settings.models_dir.parent / f"rasa-{settings.managed_port}.token"


def read_token(settings: NluSettings) -> str | None:
    """The token of the managed server on this port, if one was started here."""
    try:
        return token_file(settings).read_text().strip() or None
    except OSError:
        return None


def _write_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(token)


class ManagedRasa:
    """`rasa run --enable-api` on loopback from .venv-rasa, restarted if it dies."""

    def __init__(self, settings: NluSettings, *, log_file: Path | None = None) -> None:
        self.settings = settings
        self.log_file = log_file or REPO_ROOT / "var" / "log" / "rasa.log"
        self.url = f"http://{settings.managed_host}:{settings.managed_port}"
        # Rasa's API (parse, status, PUT /model) answers only to this; it never leaves Jobline.
        self.token = secrets.token_urlsafe(32)
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._lock = threading.Lock()

    def client(self, timeout_seconds: float = 2.0) -> RasaClient:
        """A client for this server, carrying its token."""
        return RasaClient(self.url, timeout_seconds, token=self.token)

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self, *, wait: bool = True) -> bool:
        """Train if needed, start the server and the watchdog; True once it answers."""
        model = ensure_model(self.settings)
        self._stopping.clear()
        _write_token(token_file(self.settings), self.token)
        self._spawn(model)
        self._watchdog = threading.Thread(
            target=self._watch, args=(model,), name="rasa-watchdog", daemon=True
        )
        self._watchdog.start()
        return self.wait_until_ready(self.settings.start_timeout_seconds) if wait else False

    def wait_until_ready(self, timeout: float) -> bool:
        """Poll /status until a model is loaded, then parse once, or the timeout passes."""
        client = self.client(timeout_seconds=1.0)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and not self._stopping.is_set():
                if client.is_ready() and self._warm_up(deadline - time.monotonic()):
                    return True
                time.sleep(0.25)
            return False
        finally:
            client.close()

    def _warm_up(self, timeout: float) -> bool:
        """Parse one text, so the first seeker does not pay for loading jieba's dictionary."""
        # The first Chinese parse loads jieba's dictionary (0.8 s idle, over the 2 s client
        # timeout on a busy machine): without this the first seekers after a (re)start got the
        # fallback and /health said degraded.
        client = self.client(timeout_seconds=max(timeout, 1.0))
        try:
            client.parse("你好 hello")
            return True
        except RasaError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the watchdog and the server (TERM, then KILL after 10 s)."""
        self._stopping.set()
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=5)
        if read_token(self.settings) == self.token:
            token_file(self.settings).unlink(missing_ok=True)

    def __enter__(self) -> ManagedRasa:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self, model: Path) -> None:
        rasa = ensure_venv(self.settings)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(rasa.parent / "python"), "-c", LAUNCH,
            "run", "--enable-api",
            "--model", str(model),
            "--interface", self.settings.managed_host,
            "--port", str(self.settings.managed_port),
        ]  # fmt: skip
        # Spawn under the lock, so stop() either sees this process or stops us spawning it.
        with self._lock, open(self.log_file, "ab") as out:
            if self._stopping.is_set():
                return
            self._process = subprocess.Popen(
                command,
                cwd=self.log_file.parent,
                env=rasa_env(),
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() ends its children
                preexec_fn=_die_with_parent,
            )
        assert self._process.stdin is not None
        with contextlib.suppress(OSError):
            self._process.stdin.write(self.token.encode() + b"\n")
            self._process.stdin.close()
        log.info("started Rasa (pid %d) on %s", self._process.pid, self.url)

    def _watch(self, model: Path) -> None:
        backoff = 1.0
        while not self._stopping.wait(1.0):
            with self._lock:
                process = self._process
            if process is None or process.poll() is None:
                continue
            log.warning("Rasa (pid %d) exited with %s; restarting", process.pid, process.returncode)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, 30.0)
            self.restarts += 1
            try:
                self._spawn(model)
            except (OSError, RasaSetupError):
                log.exception("could not restart Rasa")
            else:
                if self.wait_until_ready(self.settings.start_timeout_seconds):
                    backoff = 1.0


def clear_models(settings: NluSettings) -> None:
    """Delete every trained model (they are rebuilt on demand)."""
    shutil.rmtree(settings.models_dir, ignore_errors=True)
