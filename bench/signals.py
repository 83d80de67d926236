"""Inline detector benchmark: throughput over a generated corpus, per-post latency, the added
cost of screening on post creation, and precision/recall on a labelled sample.

    .venv/bin/python bench/signals.py                # 100,000 posts
    .venv/bin/python bench/signals.py --posts 20000  # quicker
    .venv/bin/python bench/signals.py --posts 20000 --runs 1 \
        --database-url postgresql+psycopg://root@127.0.0.1:5432/test  # screening on PostgreSQL
    .venv/bin/python bench/signals.py --posts 20000 --runs 1 --stages  # where screening's time goes

Writes bench/out/signals-<time>.json. Runs on one core, in-process. Screening is measured on
a new SQLite file, or, with `--database-url`, in a scratch database created on that PostgreSQL
server for the run and dropped after it (the database the URL names is not touched).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faker import Faker  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from stdnum import luhn  # noqa: E402

from parvis.moderation.signals import inline  # noqa: E402

OUT = ROOT / "bench" / "out"
KINDS = ("national_id", "payment_card", "iban", "email", "phone", "street_address")


def _card(rng: random.Random) -> str:
    body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    return " ".join((body + luhn.calc_check_digit(body))[i : i + 4] for i in range(0, 16, 4))


def _bad_card(rng: random.Random) -> str:
    good = _card(rng).replace(" ", "")
    wrong = str((int(good[-1]) + 1) % 10)
    return good[:-1] + wrong


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(1, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def make_sample(fake: Faker, rng: random.Random) -> tuple[str, set[str]]:
    """One short post and the kinds of personal data it really contains."""
    roll = rng.random()
    chatter = fake.sentence(nb_words=rng.randint(6, 20))
    if roll < 0.80:
        return chatter, set()
    if roll < 0.86:  # hard negatives: dates, order numbers, prices, invalid checksums
        negative = rng.choice(
            [
                f"Order #{rng.randint(10**8, 10**9)} ships on {fake.date()}.",
                f"It costs {rng.randint(1, 999)},{rng.randint(0, 99):02d} EUR, "
                f"ref {_bad_card(rng)}.",
                f"Meeting {fake.date()} at {rng.randint(8, 18)}:{rng.choice(['00', '30'])}, "
                "room 123-45.",
                f"Tracking 000-{rng.randint(10, 99)}-{rng.randint(1000, 9999)} is not an SSN.",
            ]
        )
        return f"{chatter} {negative}", set()
    kind = rng.choice(["ssn", "card", "iban", "email", "phone", "address", "doxx"])
    if kind == "ssn":
        return f"{chatter} SSN {_ssn(rng)}", {"national_id"}
    if kind == "card":
        return f"{chatter} card {_card(rng)}", {"payment_card"}
    if kind == "iban":
        return f"{chatter} IBAN {fake.iban()}", {"iban"}
    if kind == "email":
        return f"{chatter} write to {fake.email()}", {"email"}
    if kind == "phone":
        return f"{chatter} call +1 {rng.choice([212, 415, 617])} 555 {rng.randint(1000, 1999)}", {
            "phone"
        }
    if kind == "address":
        return f"{chatter} at {rng.randint(1, 9999)} {fake.last_name()} Street", {"street_address"}
    return (
        f"{chatter} {fake.name()} SSN {_ssn(rng)} lives at {rng.randint(1, 9999)} "
        f"{fake.last_name()} Avenue",
        {"national_id", "street_address"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--screened",
        type=int,
        default=10_000,
        help="posts created with inline screening for the added latency (default 10,000: "
        "about 190 of them get a decision, so the all-posts p99 rests on enough of them)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="screen on this PostgreSQL server (in a scratch database) instead of SQLite",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also time the stages of screening (detectors, first statement, the decision's "
        "parts) and report their medians, for posts with and without a decision (the timers "
        "add a few microseconds per stage to the measure)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    fake = Faker(["en_US", "fr_FR", "de_DE", "it_IT", "es_ES"])
    Faker.seed(args.seed)
    print(f"generating {args.posts} posts ...", flush=True)
    corpus = [make_sample(fake, rng) for _ in range(args.posts)]
    texts = [text for text, _ in corpus]

    rates = []
    for _ in range(args.runs):
        started = time.perf_counter()
        for text in texts:
            inline.detect(text)
        rates.append(len(texts) / (time.perf_counter() - started))
    latencies = []
    for text in texts[:20_000]:
        started = time.perf_counter_ns()
        inline.detect(text)
        latencies.append((time.perf_counter_ns() - started) / 1e6)
    latencies.sort()

    counts = {kind: {"tp": 0, "fp": 0, "fn": 0} for kind in KINDS}
    for text, truth in corpus[:20_000]:
        found = {s.kind for s in inline.detect(text)} & set(KINDS)
        for kind in KINDS:
            if kind in found and kind in truth:
                counts[kind]["tp"] += 1
            elif kind in found:
                counts[kind]["fp"] += 1
            elif kind in truth:
                counts[kind]["fn"] += 1
    quality = {
        kind: {
            "precision": round(c["tp"] / (c["tp"] + c["fp"]), 4) if c["tp"] + c["fp"] else None,
            "recall": round(c["tp"] / (c["tp"] + c["fn"]), 4) if c["tp"] + c["fn"] else None,
            **c,
        }
        for kind, c in counts.items()
    }
    stages = StageTimers() if args.stages else None
    added = screening_overhead(texts[: args.screened], args.database_url, stages)
    report: dict[str, Any] = {
        "posts": len(texts),
        "runs": args.runs,
        "posts_per_second_median": round(statistics.median(rates)),
        "posts_per_second_runs": [round(r) for r in rates],
        "latency_ms": {
            "p50": round(latencies[len(latencies) // 2], 4),
            "p99": round(latencies[int(len(latencies) * 0.99)], 4),
            "max": round(latencies[-1], 3),
        },
        "quality_on_20000_labelled": quality,
        "posts_screened": min(args.screened, len(texts)),
        "screened_on": "postgresql" if args.database_url else "sqlite",
        "post_creation_added_ms": added,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(report, indent=2))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"signals-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print(
        f"\n{report['posts_per_second_median']} posts/s (one core), "
        f"p99 {report['latency_ms']['p99']} ms "
        f"per post; screening adds p50 {added['p50']} ms / p99 {added['p99']} ms to post creation "
        f"(posts with no decision: p99 {added['no_decision_p99']} ms; the "
        f"{100 * added['with_decision_share']:.1f} % that got one: "
        f"p50 {added['with_decision_p50']} ms; each one's statement then delivered after "
        f"the commit in {added['statement_delivery_after_commit_ms']} ms)"
    )
    if stages is not None:
        for group, medians in added["stages_us"].items():
            timed = ", ".join(f"{stage.strip()} {us} µs" for stage, us in medians.items())
            print(f"stage medians, posts {group}: {timed}")
    print(f"report written to {path}")


class StageTimers:
    """Wall time per stage of screening, per post (`--stages`): the functions screening calls
    are wrapped in timers where they are looked up (module attributes), and each screened
    post's totals are kept. Nested stages overlap: "decision" holds its parts below it."""

    # (module, attribute, stage): the detectors, screening's own reads, then the decision.
    POINTS = (
        ("parvis.moderation.screening", "first_look", "first statement"),
        ("parvis.moderation.screening", "moderation_state", "rules and lists"),
        ("parvis.moderation.signals.inline", "detect", "detectors"),
        ("parvis.moderation.signals.words", "detect", "watched words"),
        ("parvis.moderation.screening", "_flood_signals", "flood"),
        ("parvis.moderation.screening", "evaluate", "rule evaluation"),
        ("parvis.moderation.screening", "take_decision", "decision"),
        ("parvis.moderation.decisions", "_check", "  checks"),
        ("parvis.moderation.decisions", "insert_object", "  decision INSERT"),
        ("parvis.moderation.decisions", "build_statement", "  statement built"),
        ("parvis.moderation.dsa", "validate_statement", "  statement validated"),
        ("parvis.moderation.decisions", "_SET_STATEMENT", "  statement written"),
        ("parvis.moderation.decisions", "_apply", "  effect"),
        ("parvis.audit.log", "record_decision", "  log leaf"),
    )

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.posts: list[tuple[bool, dict[str, float]]] = []

    def install(self) -> None:
        """Wrap every point (once per process: the wrappers stay for the run)."""
        import importlib

        for module_name, attribute, stage in self.POINTS:
            module = importlib.import_module(module_name)
            original = getattr(module, attribute)
            if hasattr(original, "write"):  # a HotSQL statement: time its write
                original.write = self._timed(original.write, stage)
            else:
                setattr(module, attribute, self._timed(original, stage))

    def _timed(self, function: Callable[..., Any], stage: str) -> Callable[..., Any]:
        current = self.current

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                current[stage] += time.perf_counter() - started

        return timed

    def end_post(self, decided: bool) -> None:
        """Keep the post's stage times and start the next post's."""
        self.posts.append((decided, dict(self.current)))
        self.current.clear()

    def medians(self) -> dict[str, dict[str, float]]:
        """Median microseconds per stage, over posts with a decision and posts without."""
        result: dict[str, dict[str, float]] = {}
        for decided, group in ((True, "with a decision"), (False, "without")):
            chosen = [times for was, times in self.posts if was == decided]
            if not chosen:
                continue
            result[group] = {
                stage: round(statistics.median(times.get(stage, 0.0) for times in chosen) * 1e6)
                for _module, _attribute, stage in self.POINTS
                if any(stage in times for times in chosen)
            }
        return result


AUTHORS = 200
POSTS_PER_AUTHOR = 8  # a run posts each author's share within seconds: well under the flood rule


@contextlib.contextmanager
def scratch_postgresql(server_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server of `server_url`, dropped on
    exit."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"parvis_bench_{os.getpid()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_search_index(session: Session) -> None:
    """Write the post's full-text index entry now, as its other rows were just flushed.

    SQLite's FTS5 keeps a transaction's new terms in memory and writes them at the commit or
    when a statement opens a savepoint, whichever comes first (sometimes merging index
    segments too: dozens of statements). On a decision post, screening's log append (an
    UPDATE … RETURNING, which opens a statement savepoint) came first, so the post's own index
    write was timed as screening's (~60–100 µs of it) while posts without a decision paid it
    at the commit, outside the measure. An empty savepoint here makes every post pay it
    before the clock starts. PostgreSQL indexes the post in its INSERT."""
    if session.get_bind().dialect.name == "sqlite":
        driver = session.connection().connection.driver_connection
        assert driver is not None
        driver.execute("SAVEPOINT post_search_index")
        driver.execute("RELEASE post_search_index")


def screening_overhead(
    texts: list[str], server_url: str = "", stages: StageTimers | None = None
) -> dict[str, Any]:
    """Post creation through the service with inline screening, in-process: on a new SQLite
    file, or in a scratch database on the PostgreSQL server of `server_url`; with `stages`,
    each stage of screening timed too."""
    from parvis.accounts import services as accounts
    from parvis.accounts.models import User
    from parvis.config import Settings
    from parvis.moderation import publication, statement_outbox
    from parvis.moderation.screening import screen_post
    from parvis.runtime import Runtime
    from parvis.social import posts
    from parvis.social.posts import PostDraft
    from parvis.storage import migrate

    authors = max(AUTHORS, len(texts) // POSTS_PER_AUTHOR)
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        database_url = stack.enter_context(scratch_postgresql(server_url)) if server_url else ""
        settings = Settings(
            data_dir=Path(folder),
            database_url=database_url,
            sqlite_synchronous="NORMAL",
            secret_key="bench",
            argon2_memory_kib=64,
            argon2_time_cost=1,
            link_check_enabled=True,  # links are queued for the checker, as in production
        )
        runtime = Runtime.build(settings)
        migrate.upgrade(runtime.db.engine)
        with runtime.db.session() as session:
            publication.ensure_default(session)
            # Posts rotate over many authors, as on a real instance: one author posting the
            # whole corpus in seconds would (rightly) trip the flood rule.
            author_ids = [
                accounts.create_user(
                    session,
                    settings,
                    username=f"bencher{n}",
                    email=f"b{n}@bench.invalid",
                    password="x" * 12,
                    verified=True,
                    check_strength=False,
                ).id
                for n in range(authors)
            ]
        if stages is not None:
            stages.install()
        gc.freeze()  # as the server does once started (parvis.app)
        # The added latency is the time spent in screen_post, measured on its own inside the
        # post's transaction (the difference of two noisy create_post timings hid it in noise),
        # with the rows it leaves for the commit flushed inside the measured time.
        added: list[float] = []
        whole: list[float] = []
        undecided: list[float] = []  # the posts that triggered no decision
        deciding: list[float] = []  # the others: decision, statement, log leaf, notice, e-mail
        for index, text in enumerate(texts):
            with runtime.db.session() as session:
                me = session.get_one(User, author_ids[index % authors])
                started = time.perf_counter()
                post = posts.create_post(session, settings, me, PostDraft(body=text[:4000]))
                session.flush()  # the post's own writes are the post's, not screening's
                write_search_index(session)
                if stages is not None:
                    stages.current.clear()  # creating the post ran some of the same functions
                screening = time.perf_counter()
                taken = screen_post(session, runtime.services, post)
                session.flush()  # screening's writes count, even those left for the commit
                done = time.perf_counter()
                added.append((done - screening) * 1000)
                if stages is not None:
                    stages.end_post(bool(taken))
                (deciding if taken else undecided).append((done - screening) * 1000)
                whole.append((done - started) * 1000)
        # Screening's statements of reasons are told after the post's transaction commits
        # (moderation.statement_outbox): off the author's request, but still work the server
        # does, so it is timed here too, per statement.
        started = time.perf_counter()
        told = statement_outbox.deliver_all(runtime.db, runtime.services)
        delivery_ms = (time.perf_counter() - started) * 1000 / told if told else float("nan")
        runtime.db.dispose()
    for values in (added, whole, undecided, deciding):
        values.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    result: dict[str, Any] = {
        "p50": round(pct(added, 0.5), 3),
        "p99": round(pct(added, 0.99), 3),
        "no_decision_p50": round(pct(undecided, 0.5), 3),
        "no_decision_p99": round(pct(undecided, 0.99), 3),
        "with_decision_share": round(len(deciding) / len(added), 4),
        "with_decision_p50": round(pct(deciding, 0.5), 3),
        "with_decision_p99": round(pct(deciding, 0.99), 3),
        "create_p50": round(pct(whole, 0.5), 3),
        "create_p99": round(pct(whole, 0.99), 3),
        "statement_delivery_after_commit_ms": round(delivery_ms, 3),
    }
    if stages is not None:
        result["stages_us"] = stages.medians()
    return result


if __name__ == "__main__":
    main()
