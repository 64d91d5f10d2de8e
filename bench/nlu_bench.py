"""NLU bench: held-out accuracy, out-of-domain false-job rate, latency vs bare Rasa, cold start.

Run: python bench/nlu_bench.py [--train] [--sweep]. Uses the managed Rasa server (trained model
reused) unless JOBLINE_NLU__URL / nlu.url points at one. Writes bench/out/nlu.json too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli_nlu import load_nlu_settings
from nlu.client import RasaClient, RasaResult
from nlu.config import REPO_ROOT, NluSettings
from nlu.evaluate import Example, evaluate, load_examples
from nlu.server import ManagedRasa, ensure_model, model_path
from nlu.understand import Understander

HELDOUT = (
    REPO_ROOT / "nlu" / "heldout" / "seekers.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_2.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_3.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_4.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_5.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_6.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_7.yml",
)
# Chinese seeker messages, reported on their own (the goal is per language).
HELDOUT_ZH = (
    REPO_ROOT / "nlu" / "heldout" / "seekers_zh.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_zh_2.yml",
    REPO_ROOT / "nlu" / "heldout" / "seekers_zh_3.yml",
)
OUT_OF_DOMAIN = (
    REPO_ROOT / "nlu" / "heldout" / "out_of_domain.yml",
    REPO_ROOT / "nlu" / "heldout" / "out_of_domain_2.yml",
    REPO_ROOT / "nlu" / "heldout" / "out_of_domain_zh.yml",
)
LATENCY_MESSAGES = 1000


def percentile(samples: list[float], share: float) -> float:
    """The value below which `share` of the samples lie (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class CachingClient(RasaClient):
    """Asks Rasa once per text, so thresholds can be compared on the same answers."""

    def __init__(self, base_url: str, timeout_seconds: float, token: str | None) -> None:
        super().__init__(base_url, timeout_seconds, token=token)
        self.cache: dict[str, RasaResult] = {}

    def parse(self, text: str) -> RasaResult:
        """Rasa's answer, remembered."""
        if text not in self.cache:
            self.cache[text] = super().parse(text)
        return self.cache[text]


def latency(
    url: str, settings: NluSettings, texts: list[str], token: str | None
) -> dict[str, float]:
    """p50/p99 of understand() and of a bare POST /model/parse, interleaved, in milliseconds."""
    client = RasaClient(url, settings.timeout_seconds, token=token)
    understander = Understander(client, threshold=settings.threshold)
    params = {"token": token} if token else None
    bare_http = httpx.Client(base_url=url, timeout=settings.timeout_seconds, params=params)
    ours: list[float] = []
    bare: list[float] = []
    for text in texts[:50]:  # warm both connections and Rasa
        understander.understand(text)
        bare_http.post("/model/parse", json={"text": text}).json()
    for index in range(LATENCY_MESSAGES):
        text = texts[index % len(texts)]
        started = time.perf_counter()
        understander.understand(text)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare_http.post("/model/parse", json={"text": text}).json()
        bare.append(time.perf_counter() - started)
    client.close()
    bare_http.close()
    result = {
        "understand_p50_ms": percentile(ours, 0.50) * 1000,
        "understand_p99_ms": percentile(ours, 0.99) * 1000,
        "bare_p50_ms": percentile(bare, 0.50) * 1000,
        "bare_p99_ms": percentile(bare, 0.99) * 1000,
        "understand_mean_ms": statistics.fmean(ours) * 1000,
        "bare_mean_ms": statistics.fmean(bare) * 1000,
    }
    result["ratio_p50"] = result["understand_p50_ms"] / result["bare_p50_ms"]
    result["overhead_p50_pct"] = (result["ratio_p50"] - 1) * 100
    return result


def jobline_run_cold_start(settings: NluSettings) -> float | None:
    """Seconds from starting `jobline run` (existing venv and model) to /health saying nlu ok."""
    import os
    import signal
    import socket
    import subprocess

    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(int(probe.getsockname()[1]))
    env = {
        **os.environ,
        "JOBLINE_DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bench.db",
        "JOBLINE_NLU__URL": "",
        "JOBLINE_NLU__MANAGED_PORT": str(ports[1]),
    }
    command = [sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port"]
    started = time.monotonic()
    jobline = subprocess.Popen(
        [*command, str(ports[0])],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.monotonic() - started < 300 and jobline.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{ports[0]}/health", timeout=2).json()
                if health.get("nlu") == "ok":
                    return time.monotonic() - started
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        return None
    finally:
        jobline.send_signal(signal.SIGTERM)
        jobline.wait(timeout=60)


def rasa_texts(examples: list[Example], understander: Understander) -> list[str]:
    """Messages that go past the keyword fast path, so both sides of the ratio call Rasa."""
    return [e.text for e in examples if understander.fast_path(e.text, None) is None]


def main() -> int:
    """Run the bench and print one line per number."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", action="store_true", help="Also time a full training run.")
    parser.add_argument("--sweep", action="store_true", help="Also compare thresholds.")
    parser.add_argument(
        "--accuracy-only", action="store_true", help="Skip the cold-start and latency runs."
    )
    parser.add_argument(
        "--rasa-off", action="store_true", help="Held-out accuracy with Rasa down (keywords)."
    )
    args = parser.parse_args()
    settings = load_nlu_settings()
    results: dict[str, object] = {}
    if args.rasa_off:
        return rasa_off()

    if args.train:
        with tempfile.TemporaryDirectory() as scratch:
            trial = settings.model_copy(update={"models_dir": Path(scratch)})
            started = time.monotonic()
            trained = ensure_model(trial, force=True)
            results["train_seconds"] = time.monotonic() - started
            if not model_path(settings).exists():  # keep it, so it is not trained twice
                model_path(settings).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(trained, model_path(settings))
            print(f"train time: {results['train_seconds']:.0f} s (2 cores, rasa train nlu)")

    server: ManagedRasa | None = None
    url = settings.base_url()
    token: str | None = settings.auth_token or None
    if not settings.url:
        ensure_model(settings)  # cold start is measured with an existing venv and model
        if not args.accuracy_only:
            run_seconds = jobline_run_cold_start(settings)
            results["cold_start_jobline_run_seconds"] = run_seconds
            shown = f"{run_seconds:.1f} s" if run_seconds is not None else "did not answer"
            print(f"cold start (jobline run -> /health nlu ok): {shown}")
        server = ManagedRasa(settings, log_file=REPO_ROOT / "var" / "log" / "rasa-bench.log")
        started = time.monotonic()
        if not server.start(wait=False) and not server.wait_until_ready(300):
            print("Rasa did not start; see var/log/rasa-bench.log", file=sys.stderr)
            server.stop()
            return 1
        token = server.token
        probe = Understander(server.client(settings.timeout_seconds))
        while probe.understand("any jobs in daoli").source != "rasa":
            time.sleep(0.05)
        results["cold_start_seconds"] = time.monotonic() - started
        print(f"cold start (Rasa alone: start -> first understood message): "
              f"{results['cold_start_seconds']:.1f} s")  # fmt: skip
    try:
        cache = CachingClient(url, settings.timeout_seconds, token)
        understander = Understander(
            cache,
            threshold=settings.threshold,
            domain_confidence=settings.domain_confidence,
            ambiguity=settings.ambiguity,
            overrule_words=settings.overrule_words,
        )
        seekers = [example for path in HELDOUT for example in load_examples(path)]
        unrelated = [example for path in OUT_OF_DOMAIN for example in load_examples(path)]
        report = evaluate(seekers, understander.understand)
        ood = evaluate(unrelated, understander.understand)
        results.update(
            heldout_accuracy=report.accuracy,
            heldout_messages=report.total,
            heldout_entity_accuracy=report.entity_accuracy,
            ood_false_job_rate=ood.job_intent_rate,
            ood_messages=ood.total,
            threshold=settings.threshold,
        )
        print(f"held-out intent accuracy: {report.accuracy:.1%} of {report.total} "
              f"(entities {report.entity_accuracy:.1%}); target >= 95%")  # fmt: skip
        print(f"out-of-domain given a job intent: {ood.job_intent_rate:.1%} of {ood.total}; "
              f"target <= 5%")  # fmt: skip
        for path in HELDOUT:
            part = evaluate(load_examples(path), understander.understand)
            print(f"  {path.name}: {part.accuracy:.1%} of {part.total}")
            results[f"accuracy_{path.stem}"] = part.accuracy
        chinese = evaluate(
            [example for path in HELDOUT_ZH for example in load_examples(path)],
            understander.understand,
        )
        print(f"Chinese held-out intent accuracy: {chinese.accuracy:.1%} of {chinese.total}; "
              f"target >= 95%")  # fmt: skip
        for path in HELDOUT_ZH:
            part = evaluate(load_examples(path), understander.understand)
            print(f"  {path.name}: {part.accuracy:.1%} of {part.total}")
            results[f"accuracy_{path.stem}"] = part.accuracy
        for path in OUT_OF_DOMAIN:
            part = evaluate(load_examples(path), understander.understand)
            print(f"  {path.name}: {part.job_intent_rate:.1%} of {part.total} given a job intent")
            results[f"ood_false_job_rate_{path.stem}"] = part.job_intent_rate
        for example, parse in report.confusions + chinese.confusions + ood.confusions:
            print(
                f"  miss: {example.intent} -> {parse.intent} {parse.confidence:.2f} {example.text}"
            )
        if args.sweep:
            for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
                trial_u = Understander(
                    cache, threshold=threshold, domain_confidence=settings.domain_confidence
                )
                a = evaluate(seekers, trial_u.understand).accuracy
                f = evaluate(unrelated, trial_u.understand).job_intent_rate
                print(f"  threshold {threshold:.1f}: accuracy {a:.1%}, out-of-domain jobs {f:.1%}")
        if args.accuracy_only:
            return 0
        texts = rasa_texts(seekers + unrelated, understander)
        timing = latency(url, settings, texts, token)
        results.update(timing)
        print(f"latency over {LATENCY_MESSAGES} messages: understand() "
              f"p50 {timing['understand_p50_ms']:.1f} ms p99 {timing['understand_p99_ms']:.1f} ms; "
              f"bare /model/parse p50 {timing['bare_p50_ms']:.1f} ms "
              f"p99 {timing['bare_p99_ms']:.1f} ms")  # fmt: skip
        print(f"ratio understand/bare (p50): {timing['ratio_p50']:.3f} "
              f"(overhead {timing['overhead_p50_pct']:.1f}%, target < 10%)")  # fmt: skip
    finally:
        if server is not None:
            server.stop()
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def rasa_off() -> int:
    """Held-out accuracy with Rasa down: the keyword fallback against out_of_scope for all."""
    seekers = [example for path in HELDOUT for example in load_examples(path)]
    unrelated = [example for path in OUT_OF_DOMAIN for example in load_examples(path)]
    before = Understander(None, guess=lambda _: None)  # the fallback before: out_of_scope
    now = Understander(None)
    base = evaluate(seekers, before.understand).accuracy
    report = evaluate(seekers, now.understand)
    ood = evaluate(unrelated, now.understand)
    ratio = report.accuracy / base
    print(f"held-out intent accuracy with Rasa off: {report.accuracy:.1%} of {report.total}")
    print(f"  out_of_scope for all (the fallback before): {base:.1%}; ratio {ratio:.1f}x")
    for path in HELDOUT:
        part = evaluate(load_examples(path), now.understand)
        print(f"  {path.name}: {part.accuracy:.1%} of {part.total}")
    asks = {"find_jobs", "loan_eligibility", "job_fair", "register"}
    found = evaluate([e for e in seekers if e.intent in asks], now.understand)
    print(f"job, loan, fair and register requests: {found.accuracy:.1%} of {found.total}")
    print(f"out-of-domain given a job intent: {ood.job_intent_rate:.1%} of {ood.total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
