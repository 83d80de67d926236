"""Provable log benchmark: append throughput (raw leaves and whole decisions through
`moderation.decisions.decide`, with the same run's baseline without the log), and proof latency
at 10^6 leaves.

    .venv/bin/python bench/log.py                                  # 100,000 decisions, 10^6 leaves
    .venv/bin/python bench/log.py --decisions 20000 --leaves 200000   # quicker
    .venv/bin/python bench/log.py --database-url postgresql+psycopg://root@127.0.0.1:5432/parvis_bench

SQLite runs in a temporary folder; a PostgreSQL database given with --database-url must exist
and is emptied first. Prints its figures, writes bench/out/log-<time>.json and bench/reports/log.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from parvis.audit import keys, log  # noqa: E402
from parvis.audit.leaves import LeafDraft  # noqa: E402
from parvis.audit.merkle import verify_consistency, verify_inclusion  # noqa: E402
from parvis.audit.verify import verify_database  # noqa: E402
from parvis.config import Settings  # noqa: E402
from parvis.moderation import decisions  # noqa: E402
from parvis.moderation.decisions import DecisionRequest  # noqa: E402
from parvis.moderation.models import (  # noqa: E402
    Action,
    Automation,
    Decision,
    Source,
    SubjectType,
)
from parvis.moderation.reasons import RuleInfo  # noqa: E402
from parvis.runtime import Runtime  # noqa: E402
from parvis.storage import migrate  # noqa: E402
from parvis.storage.registry import metadata  # noqa: E402

OUT = ROOT / "bench" / "out"
REPORT = ROOT / "bench" / "reports" / "log.md"
RULE = RuleInfo(
    id="hacked-materials",
    version=1,
    title="Hacked materials",
    text="Do not share material obtained by hacking.",
    ground="terms",
    legal_reference="",
    terms_clause="Terms of service, clause 7 (hacked materials)",
    category="STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def request(number: int) -> DecisionRequest:
    """A fully automated decision blocking one distinct URL (no post needed)."""
    return DecisionRequest(
        subject_type=SubjectType.URL,
        subject_key=f"https://leaks{number % 97}.example/file-{number}.pdf",
        action=Action.BLOCK_URL,
        rule=RULE,
        facts="The address is on the hacked-materials list.",
        source=Source.OWN_INITIATIVE,
        automated_detection=True,
        automated_decision=Automation.FULLY,
    )


@contextmanager
def log_disabled() -> Iterator[None]:
    """Take the log hook out of the decision path (the baseline)."""
    original = log.record_decision

    def unlogged(session: Any, decision: Any, *, canonical_statement: bool = False) -> int:
        return 0

    log.record_decision = unlogged
    try:
        yield
    finally:
        log.record_decision = original


def timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@contextmanager
def fresh(args: argparse.Namespace) -> Iterator[Runtime]:
    """A migrated, empty database for one part: a new SQLite file, or the PostgreSQL database
    given, emptied (deleting rows from SQLite instead would check unindexed foreign keys row by
    row)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            database_url=args.database_url,
            sqlite_synchronous=args.synchronous,
            link_check_enabled=False,
            secret_key="bench",
        )
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.db.engine)
        if not settings.is_sqlite:
            with runtime.db.session() as session:
                names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        try:
            yield runtime
        finally:
            runtime.db.dispose()


def decide_many(runtime: Runtime, count: int, per_transaction: int, offset: int = 0) -> float:
    def work() -> None:
        for start in range(0, count, per_transaction):
            with runtime.db.session() as session:
                for number in range(start, min(count, start + per_transaction)):
                    decisions.decide(session, request(offset + number))

    return timed(work)


def append_many(runtime: Runtime, count: int, per_transaction: int, batch: bool) -> float:
    def work() -> None:
        for start in range(0, count, per_transaction):
            drafts = [
                LeafDraft("decision", f"decision:{n}", {"kind": "decision", "decision_id": n})
                for n in range(start, min(count, start + per_transaction))
            ]
            with runtime.db.session() as session:
                if batch:
                    log.append_many(session, drafts)
                else:
                    for draft in drafts:
                        log.append(session, draft)

    return timed(work)


def log_decisions(runtime: Runtime, count: int, per_transaction: int) -> float:
    """Decisions taken with the log's hook off, then logged: the time of `record_decision`
    alone (the leaf built from the decision row, its statement included, and appended), the
    loading of the rows subtracted."""
    with log_disabled():
        decide_many(runtime, count, per_transaction)
    with runtime.db.session() as session:
        ids = list(session.scalars(select(Decision.id).order_by(Decision.id)))
    batches = [ids[start : start + per_transaction] for start in range(0, count, per_transaction)]

    def load(batch: list[int], session: Session) -> list[Decision]:
        return list(session.scalars(select(Decision).where(Decision.id.in_(batch))))

    def loading() -> None:
        for batch in batches:
            with runtime.db.session() as session:
                load(batch, session)

    def logging() -> None:
        for batch in batches:
            with runtime.db.session() as session:
                for decision in load(batch, session):
                    log.record_decision(session, decision)

    loaded = timed(loading)
    return timed(logging) - loaded


def bench_appends(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    n = args.decisions
    with fresh(args) as runtime:
        seconds = append_many(runtime, n, 100, batch=False)
    results["leaf_appends_per_s (one append() per leaf, 100 per transaction)"] = n / seconds
    with fresh(args) as runtime:
        seconds = log_decisions(runtime, n, 100)
    results["decisions_logged_per_s (record_decision on stored decisions, 100 per tx)"] = (
        n / seconds
    )
    with fresh(args) as runtime:
        seconds = decide_many(runtime, n, 100)
        results["decisions_per_s (decide() with its leaf, 100 per transaction)"] = n / seconds
        started = time.perf_counter()
        with runtime.db.session() as session:
            public = keys.public_key_bytes(keys.signing_key(runtime.settings))
            outcome = verify_database(session, public)
        assert outcome.ok, outcome.sorted_problems()[:3]
        results[f"verify_seconds ({n} decisions, every row matched)"] = (
            time.perf_counter() - started
        )
    with fresh(args) as runtime:
        results.update(paired(runtime, args, per_transaction=100, rounds=10, size=n // 50))
    with fresh(args) as runtime:
        results.update(paired(runtime, args, per_transaction=1, rounds=6, size=max(50, n // 400)))
    return results


def paired(
    runtime: Runtime, args: argparse.Namespace, *, per_transaction: int, rounds: int, size: int
) -> dict[str, Any]:
    """Decisions with and without the log in alternating rounds on one database (the machine is
    shared, so only paired rounds say what the log costs); medians of the rounds."""
    with_log: list[float] = []
    without: list[float] = []
    offset = 0
    for _ in range(rounds):
        with log_disabled():
            without.append(decide_many(runtime, size, per_transaction, offset) / size)
        offset += size
        with_log.append(decide_many(runtime, size, per_transaction, offset) / size)
        offset += size
    label = f"{per_transaction} per transaction, {rounds} rounds of {size}"
    return {
        f"baseline_decisions_per_s ({label}, no log)": 1 / statistics.median(without),
        f"decisions_per_s ({label}, with leaf)": 1 / statistics.median(with_log),
        f"log_cost_per_decision_us ({label}, median of paired differences)": statistics.median(
            (a - b) * 1e6 for a, b in zip(with_log, without, strict=True)
        ),
    }


def bench_proofs(runtime: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    n = args.leaves
    build = append_many(runtime, n, 10_000, batch=True)
    results: dict[str, Any] = {
        "build_leaves": n,
        "build_seconds (append_many, 10k per tx)": build,
        "build_leaves_per_s": n / build,
    }
    key = keys.signing_key(runtime.settings)
    rng = random.Random(7)
    with runtime.db.session() as session:
        started = time.perf_counter()
        head = log.latest_head(session, key)
        results["sign_head_ms"] = (time.perf_counter() - started) * 1000
        for _ in range(200):  # warm the page cache, as a serving instance's would be
            log.inclusion_proof(session, rng.randrange(n), n)
        inclusion: list[float] = []
        for _ in range(args.proofs):
            index = rng.randrange(n)
            started = time.perf_counter()
            path = log.inclusion_proof(session, index, n)
            inclusion.append((time.perf_counter() - started) * 1000)
            if len(inclusion) <= 50:
                leaf = log.get_leaf(session, index)
                verify_inclusion(bytes(leaf.leaf_hash), index, n, path, head.root_hash)
        consistency: list[float] = []
        for _ in range(args.proofs // 4):
            old = rng.randrange(1, n)
            started = time.perf_counter()
            proof = log.consistency_proof(session, old, n)
            consistency.append((time.perf_counter() - started) * 1000)
            if len(consistency) <= 20:
                verify_consistency(old, n, proof, log.root_at(session, old), head.root_hash)
    results["inclusion_proof_ms"] = {
        "p50": statistics.median(inclusion),
        "p99": percentile(inclusion, 0.99),
        "max": max(inclusion),
        "path_length": len(path),
    }
    results["consistency_proof_ms"] = {
        "p50": statistics.median(consistency),
        "p99": percentile(consistency, 0.99),
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--synchronous", default="FULL", help="SQLite synchronous setting")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    backend = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
    figures: dict[str, Any] = {
        "backend": backend,
        "sqlite_synchronous": args.synchronous if backend == "sqlite" else None,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }
    figures["appends"] = bench_appends(args)
    figures["load_average_after_appends"] = os.getloadavg()
    print(json.dumps(figures["appends"], indent=1))
    with fresh(args) as runtime:
        figures["proofs"] = bench_proofs(runtime, args)
    print(json.dumps(figures["proofs"], indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (OUT / f"log-{backend}-{stamp}.json").write_text(json.dumps(figures, indent=1))
    write_report(figures, args)


def write_report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    appends, proofs = figures["appends"], figures["proofs"]
    lines = [
        f"# Provable log benchmark ({figures['backend']}, {figures['when']})",
        "",
        "Shared 2-core machine; load average at start "
        + ", ".join(f"{x:.1f}" for x in figures.get("load_average_at_start", ()))
        + ". Timings are medians unless marked p99. `decisions_logged_per_s` is the log's own"
        " throughput for decisions (the leaf built from each stored decision, statement"
        " included, and appended); `decisions_per_s` is the whole decision path.",
        "",
        f"`.venv/bin/python bench/log.py --decisions {args.decisions} --leaves {args.leaves}`"
        + (
            f" (SQLite synchronous={figures['sqlite_synchronous']})"
            if figures["sqlite_synchronous"]
            else ""
        ),
        "",
        "| measure | value |",
        "| --- | --- |",
    ]
    for name, value in appends.items():
        lines.append(f"| {name} | {value:,.1f} |")
    lines.append(f"| leaves in the proof tree | {proofs['build_leaves']:,} |")
    lines.append(
        f"| build time (s), leaves/s (append_many, 10,000 per transaction) | "
        f"{proofs['build_seconds (append_many, 10k per tx)']:.1f}, "
        f"{proofs['build_leaves_per_s']:,.0f} |"
    )
    lines.append(f"| sign a head at that size (ms) | {proofs['sign_head_ms']:.2f} |")
    inc, con = proofs["inclusion_proof_ms"], proofs["consistency_proof_ms"]
    lines.append(
        f"| inclusion proof p50 / p99 / max (ms) | {inc['p50']:.3f} / {inc['p99']:.3f} / "
        f"{inc['max']:.3f} ({inc['path_length']} hashes) |"
    )
    lines.append(f"| consistency proof p50 / p99 (ms) | {con['p50']:.3f} / {con['p99']:.3f} |")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    existing = REPORT.read_text() if REPORT.exists() else ""
    REPORT.write_text("\n".join(lines) + "\n\n" + existing)
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
