"""Home-timeline benchmark: build a large instance, then measure GET /api/v1/timelines/home
through the real HTTP stack (uvicorn, one process) with wrk.

    .venv/bin/python bench/timeline.py                         # 10k members, 1M posts, SQLite
    .venv/bin/python bench/timeline.py --backend postgresql    # same on the local PostgreSQL
    .venv/bin/python bench/timeline.py --users 1000 --posts 50000 --duration 5   # quick run

The built database is cached under bench/out/ (keyed by its parameters) so reruns skip the
build. Only 127.0.0.1 is contacted; the server is stopped at the end. Figures are printed and
written to bench/out/timeline-<backend>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parvis.accounts.tokens import hash_token  # noqa: E402
from parvis.config import Settings  # noqa: E402
from parvis.storage import migrate  # noqa: E402
from parvis.storage.database import make_engine  # noqa: E402

OUT = ROOT / "bench" / "out"
REPORTS = ROOT / "bench" / "reports"
PG_URL = "postgresql+psycopg://root@127.0.0.1:5432/parvis_bench"
TOKENS = 2000  # members that get a bearer token and are used as readers
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def popularity(users: int, rng: random.Random) -> list[float]:
    """Zipf-like weights: a few accounts are followed (and post) far more than the rest."""
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(users)]
    rng.shuffle(weights)
    return weights


def rows_users(users: int, weights: list[float]) -> Iterator[tuple[Any, ...]]:
    now = EPOCH.replace(tzinfo=None).isoformat(sep=" ")
    for uid in range(1, users + 1):
        name = f"member{uid:05d}"
        yield (
            uid,
            name,
            name,
            f"{name}@bench.invalid",
            f"{name}@bench.invalid",
            now,
            "!",
            f"Member {uid}",
            "",
            "member",
            now,
            0,
            0,
            0,
            0,
        )


def build(settings: Settings, users: int, posts: int, seed: int) -> None:
    """Create the schema and bulk-load members, follows, posts, reposts, replies and tokens."""
    rng = random.Random(seed)
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    weights = popularity(users, rng)
    ids = list(range(1, users + 1))
    print(f"building: {users} members, {posts} posts ...", flush=True)
    started = time.monotonic()
    follows: list[tuple[int, int, str]] = []
    following_count = [0] * (users + 1)
    followers_count = [0] * (users + 1)
    stamp = EPOCH.replace(tzinfo=None).isoformat(sep=" ")
    for uid in ids:
        count = rng.randint(50, min(500, users - 1))
        chosen = set(rng.choices(ids, weights=weights, k=count)) - {uid}
        for target in chosen:
            follows.append((uid, target, stamp))
            following_count[uid] += 1
            followers_count[target] += 1
    post_rows: list[tuple[Any, ...]] = []
    posts_count = [0] * (users + 1)
    authors = rng.choices(ids, weights=weights, k=posts)
    step = timedelta(seconds=30)
    words = [
        "square", "rules", "vote", "public", "city", "budget", "park", "library", "night",
        "market", "council", "river", "school", "music", "bridge", "news", "story", "people",
    ]  # fmt: skip
    for pid in range(1, posts + 1):
        author = authors[pid - 1]
        created = (EPOCH + step * pid).replace(tzinfo=None).isoformat(sep=" ")
        roll = rng.random()
        reblog = reply = reply_account = None
        body = " ".join(rng.choices(words, k=rng.randint(5, 40)))
        root = pid
        if pid > 100 and roll < 0.05:
            reblog, body = rng.randint(1, pid - 1), ""
        elif pid > 100 and roll < 0.15:
            reply = rng.randint(max(1, pid - 5000), pid - 1)
            reply_account = authors[reply - 1]
            root = reply
        html = f"<p>{body}</p>" if body else ""
        post_rows.append(
            (
                pid,
                author,
                "post",
                "",
                body,
                html,
                "",
                False,
                "public",
                reply,
                reply_account,
                root,
                None,
                reblog,
                created,
                0,
                0,
                0,
                0,
                0,
            )
        )
        posts_count[author] += 1
    print(f"  generated in {time.monotonic() - started:.1f}s; loading ...", flush=True)
    user_rows = list(rows_users(users, weights))
    user_rows = [
        (*row[:11], followers_count[row[0]], following_count[row[0]], posts_count[row[0]], 0)
        for row in user_rows
    ]
    app_row = (
        1,
        "bench",
        None,
        "bench-client",
        hash_token("bench-secret"),
        "urn:ietf:wg:oauth:2.0:oob",
        "read write follow",
        stamp,
    )
    token_rows = [
        (uid, hash_token(f"bench-token-{uid}"), 1, uid, "read write follow", stamp)
        for uid in range(1, min(TOKENS, users) + 1)
    ]
    user_sql = (
        "INSERT INTO users (id, username, username_key, email, email_key, email_verified_at, "
        "password_hash, display_name, bio, role, created_at, followers_count, following_count, "
        "posts_count, vote_score) VALUES ({})"
    )
    post_sql = (
        "INSERT INTO posts (id, author_id, kind, title, body_source, body_html, spoiler_text, "
        "sensitive, visibility, in_reply_to_id, in_reply_to_account_id, thread_root_id, "
        "quote_of_id, reblog_of_id, created_at, replies_count, reblogs_count, quotes_count, "
        "upvotes, downvotes) VALUES ({})"
    )
    statements = [
        (user_sql, user_rows, 15),
        ("INSERT INTO follows (follower_id, followee_id, created_at) VALUES ({})", follows, 3),
        (post_sql, post_rows, 20),
        (
            "INSERT INTO oauth_apps (id, name, website, client_id, client_secret_hash, "
            "redirect_uris, scopes, created_at) VALUES ({})",
            [app_row],
            8,
        ),
        (
            "INSERT INTO oauth_tokens (id, token_hash, app_id, user_id, scopes, created_at) "
            "VALUES ({})",
            token_rows,
            6,
        ),
    ]
    if settings.is_sqlite:
        connection = sqlite3.connect(settings.data_dir / "parvis.db")
        connection.execute("PRAGMA synchronous=OFF")
        for sql, rows, width in statements:
            connection.executemany(sql.format(",".join("?" * width)), rows)
        connection.commit()
        connection.execute("ANALYZE")
        connection.close()
    else:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", "")) as pg:
            for sql, rows, _width in statements:
                table = sql.split()[2]
                columns = sql[sql.index("(") + 1 : sql.index(")")]
                with pg.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            pg.execute("ANALYZE")
    print(f"  built in {time.monotonic() - started:.1f}s", flush=True)


def prepare_postgres() -> None:
    """A fresh parvis_bench database on the local server."""
    import psycopg

    with psycopg.connect("postgresql://root@127.0.0.1:5432/test", autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS parvis_bench")
        connection.execute("CREATE DATABASE parvis_bench")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """uvicorn with one worker on 127.0.0.1; returns once /health answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "parvis.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--http",
            "parvis.shield.protocol:GuardedHttpToolsProtocol",  # as `parvis serve` runs it
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


LUA = """
local counter = 0
local tokens = %d
local path = "%s"
request = function()
  counter = counter + 1
  local uid = (counter %% tokens) + 1
  return wrk.format("GET", path, {["Authorization"] = "Bearer bench-token-" .. uid})
end
"""


def run_wrk(port: int, path: str, seconds: int, connections: int, tokens: int) -> dict[str, float]:
    """Run wrk with rotating bearer tokens; parse requests/s and latency percentiles."""
    script = OUT / "rotate.lua"
    script.write_text(LUA % (tokens, path))
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    text = result.stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    requests = re.search(r"(\d+) requests in", text)
    total = float(requests.group(1)) if requests else 0.0
    failed = float(errors.group(1)) if errors else 0.0
    # Only successful pages count: a refused request (429/503) is cheap and would flatter rps.
    return {
        "rps": (total - failed) / seconds if total else float("nan"),
        "sent_rps": float(rps.group(1)) if rps else float("nan"),
        "success": (total - failed) / total if total else float("nan"),
        "p50_ms": latency("50"),
        "p90_ms": latency("90"),
        "p99_ms": latency("99"),
        "requests": total,
        "errors": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds per warm measurement")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="warm runs; the median is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--shield",
        choices=["on", "off"],
        default="on",
        help="the shield middleware (rate limits, overload control) as in production, or off",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = OUT / f"timeline-{args.backend}-{args.users}-{args.posts}-{args.seed}"
    env = {**os.environ, "PARVIS_DATA_DIR": str(data_dir), "PARVIS_SECRET_KEY": "bench"}
    env["PARVIS_SHIELD_ENABLED"] = "true" if args.shield == "on" else "false"
    if args.backend == "postgresql":
        env["PARVIS_DATABASE_URL"] = PG_URL
    settings = Settings(
        data_dir=data_dir, database_url=env.get("PARVIS_DATABASE_URL", ""), secret_key="bench"
    )
    marker = data_dir / "built"
    if args.rebuild or not marker.exists() or args.backend == "postgresql":
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        if args.backend == "postgresql":
            prepare_postgres()
        build(settings, args.users, args.posts, args.seed)
        marker.write_text("ok")
    tokens = min(TOKENS, args.users)
    port = free_port()
    server = start_server(env, port)
    try:
        cold = run_wrk(port, "/api/v1/timelines/home?limit=20", 3, args.connections, tokens)
        warm_runs = [
            run_wrk(
                port, "/api/v1/timelines/home?limit=20", args.duration, args.connections, tokens
            )
            for _ in range(args.runs)
        ]
        deep_max = int(args.posts * 0.9)
        deep = run_wrk(
            port,
            f"/api/v1/timelines/home?limit=20&max_id={deep_max}",
            args.duration,
            args.connections,
            tokens,
        )
    finally:
        server.terminate()
        server.wait(timeout=20)

    def median(key: str) -> float:
        values = sorted(run[key] for run in warm_runs)
        return values[len(values) // 2]

    warm = {key: median(key) for key in warm_runs[0]}
    report = {
        "backend": args.backend,
        "users": args.users,
        "posts": args.posts,
        "connections": args.connections,
        "duration_s": args.duration,
        "runs": args.runs,
        "shield": args.shield,
        "load_average": os.getloadavg(),
        "load_generator": "wrk 4 (1 thread), rotating 2000 tokens",
        "cold_first_3s": cold,
        "warm_median": warm,
        "warm_runs": warm_runs,
        "deep_page_max_id": deep,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(report, indent=2))
    summary = markdown(report)
    print("\n" + summary)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    path = OUT / f"timeline-{args.backend}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"timeline-{args.backend}.md").write_text(summary)
    print(f"report written to {path} and bench/reports/timeline-{args.backend}.md")


def markdown(report: dict[str, Any]) -> str:
    """The small report: successful pages per second and latency, warm, cold and deep."""
    lines = [
        f"# Home timeline — {report['backend']}, {report['when']}",
        "",
        f"`bench/timeline.py --backend {report['backend']} --shield {report['shield']}`: "
        f"{report['users']:,} members, {report['posts']:,} posts, one server process, "
        f"{report['load_generator']}, {report['connections']} connections; load average at "
        f"the end {', '.join(f'{x:.2f}' for x in report['load_average'])}.",
        "",
        "| run | pages/s (2xx) | success | p50 | p90 | p99 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    runs = [("cold (first 3 s)", report["cold_first_3s"])]
    runs += [(f"warm {n + 1}", run) for n, run in enumerate(report["warm_runs"])]
    runs += [("warm, median", report["warm_median"]), ("deep page", report["deep_page_max_id"])]
    for label, run in runs:
        lines.append(
            f"| {label} | {run['rps']:.0f} | {100 * run['success']:.2f} % | "
            f"{run['p50_ms']:.2f} ms | {run['p90_ms']:.2f} ms | {run['p99_ms']:.2f} ms |"
        )
    lines += ["", "Target: p99 under 25 ms and at least 1,000 pages/s on SQLite.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
