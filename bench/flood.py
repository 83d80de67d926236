"""Flood harness: do legitimate members keep working while hostile clients flood the server at
ten times what it can serve? Scenario 4 of the design, the serving half.

    .venv/bin/python bench/flood.py                     # shield off, then on; 1 process, SQLite
    .venv/bin/python bench/flood.py --workers 2         # 2 workers sharing counters in Redis
    .venv/bin/python bench/flood.py --only shield --during 10   # one quick run

What it does, bounded in time and count, talking only to 127.0.0.1:

1. builds an instance in a temporary folder (SQLite): members who follow each other, posts,
   and a bearer token per member;
2. starts `uvicorn parvis.app:create_app` on loopback (with `--workers N`, Redis at
   127.0.0.1:6379 db 5 holds the shared counters) and measures its capacity: anonymous public
   pages, closed loop, 16 connections, from 64 addresses;
3. runs three phases — before, during and after the flood. Legitimate members, each from
   their own address in 127.0.0.0/24, read their home timeline, post and reply at a steady
   rate through the API. During the flood, hostile clients from 127.1.0.0/24 send log-ins
   (wrong passwords for real members, with a valid CSRF token), anonymous searches and public
   pages at ten times the measured capacity (open loop, at most 2,000 in flight);
4. reports for legitimate traffic the success rate and p50/p99 latency per phase and the time
   to recover after the flood, and for hostile traffic the share refused (429, 503, the
   challenge's 403) and the server's CPU time per hostile request during the flood.

The same run is done without the shield (`PARVIS_SHIELD_ENABLED=false`) for comparison; figures
go to stdout and to bench/reports/flood.md. The load generator shares the machine's cores with
the server: read the achieved hostile rate next to the target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parvis.accounts import services as accounts  # noqa: E402
from parvis.accounts.models import User  # noqa: E402
from parvis.accounts.tokens import new_token  # noqa: E402
from parvis.api.models import OAuthApp, OAuthToken  # noqa: E402
from parvis.config import Settings  # noqa: E402
from parvis.runtime import Runtime  # noqa: E402
from parvis.social import graph, posts  # noqa: E402
from parvis.social.posts import PostDraft  # noqa: E402
from parvis.storage import migrate  # noqa: E402

REPORTS = ROOT / "bench" / "reports"
PASSWORD = "flood-bench-password-2026"
WORDS = ["square", "rules", "garden", "river", "market", "bridge", "lantern", "harbour"]
VOCABULARY = [
    "".join(random.Random(n).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
    for n in range(2000)
]
HOSTILE_ADDRESSES = [f"127.1.0.{n}" for n in range(1, 65)]
CAPACITY_ADDRESSES = [f"127.2.0.{n}" for n in range(1, 65)]
REDIS_URL = "redis://127.0.0.1:6379/5"
MAX_HOSTILE_INFLIGHT = 2000
FAILURES: list[str] = []  # the first few legitimate failures, printed for diagnosis
TARGET_SUCCESS = 0.99
TARGET_P99_MS = 250.0
TARGET_RECOVERY_S = 5.0


# ---------------------------------------------------------------------------------- instance


def build_instance(folder: Path, members: int) -> list[tuple[str, str]]:
    """A migrated SQLite instance with `members` members (following each other), some posts,
    and a bearer token each; returns (username, token) pairs."""
    settings = Settings(data_dir=folder, secret_key="flood-bench-secret", link_check_enabled=False)
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.db.engine)
    found: list[tuple[str, str]] = []
    with runtime.db.session() as session:
        users = [
            accounts.create_user(
                session,
                settings,
                username=f"member{n:02d}",
                email=f"member{n:02d}@bench.invalid",
                password=PASSWORD,
                verified=True,
                check_strength=False,
            )
            for n in range(members)
        ]
        app = OAuthApp(
            name="flood",
            client_id="flood-bench",
            client_secret_hash=new_token()[1],
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes="read write follow",
        )
        session.add(app)
        session.flush()
        for user in users:
            raw, hashed = new_token()
            session.add(
                OAuthToken(
                    token_hash=hashed, app_id=app.id, user_id=user.id, scopes="read write follow"
                )
            )
            found.append((user.username, raw))
            for other in users:
                if other.id != user.id:
                    graph.follow(session, user, other)
    rng = random.Random(7)
    with runtime.db.session() as session:
        # The initial posts come from other accounts that the members follow: the members' own
        # recent posts must stay under the moderation flood detector's rate.
        criers = [
            accounts.create_user(
                session,
                settings,
                username=f"crier{n}",
                email=f"crier{n}@bench.invalid",
                password=PASSWORD,
                verified=True,
                check_strength=False,
            )
            for n in range(10)
        ]
        for member in session.query(User).filter(User.username.like("member%")):
            for crier in criers:
                graph.follow(session, member, crier)
        for n in range(300):
            author = criers[n % len(criers)]
            text = " ".join(rng.choice(WORDS) for _ in range(12)) + f" #{rng.choice(WORDS)} {n}"
            posts.create_post(session, settings, author, PostDraft(body=text))
    runtime.db.dispose()
    return found


# ------------------------------------------------------------------------------------ server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path, port: int, shield: bool, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PARVIS_DATA_DIR": str(folder),
        "PARVIS_SECRET_KEY": "flood-bench-secret",
        "PARVIS_LINK_CHECK_ENABLED": "false",
        "PARVIS_SHIELD_ENABLED": "true" if shield else "false",
        "PARVIS_REDIS_URL": REDIS_URL if workers > 1 else "",
        "PARVIS_SHIELD_REDIS_PREFIX": f"parvis-flood-{os.getpid()}-{port}",
    }
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
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-proxy-headers",
            "--http",
            "parvis.shield.protocol:GuardedHttpToolsProtocol",  # as `parvis serve` runs it
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its direct children (uvicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


# ----------------------------------------------------------------------------------- clients


@dataclass
class Sample:
    """One legitimate request: when it started (s since the run began), its latency, status."""

    at: float
    latency: float
    status: int
    kind: str


@dataclass
class HostileCounts:
    """Hostile requests by outcome."""

    sent: int = 0
    not_sent: int = 0  # the generator was at its in-flight cap
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def refused(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in (403, 429, 503))

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())


def session_from(address: str, limit: int = 0) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(address, 0), limit=limit, force_close=False)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=10),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )


async def measure_capacity(base: str, seconds: float) -> float:
    """Anonymous public pages served per second, closed loop, 16 connections."""
    sessions = [session_from(address) for address in CAPACITY_ADDRESSES]
    served = 0
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        nonlocal served
        while time.monotonic() < deadline:
            session = sessions[(n * 7 + served) % len(sessions)]
            try:
                async with session.get(f"{base}/public") as response:
                    await response.read()
                    served += response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                pass

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(16)))
    elapsed = time.monotonic() - started
    for session in sessions:
        await session.close()
    return served / elapsed


async def legit_member(
    base: str,
    address: str,
    token: str,
    rate: float,
    start: float,
    until: float,
    samples: list[Sample],
    rng: random.Random,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with session_from(address) as session:
        next_at = time.monotonic() + rng.random() / rate
        recent: list[str] = []
        while next_at < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            roll = rng.random()
            began = time.monotonic()
            kind = "home" if roll < 0.8 or not recent else ("post" if roll < 0.9 else "reply")
            status = 0
            try:
                if kind == "home":
                    async with session.get(
                        f"{base}/api/v1/timelines/home?limit=20", headers=headers
                    ) as response:
                        body = await response.read()
                        status = response.status
                        if status >= 400 and len(FAILURES) < 5:
                            FAILURES.append(f"{status} {kind}: {body[:200]!r}")
                        if status == 200:
                            recent = [item["id"] for item in json.loads(body)[:5]]
                else:
                    # Varied text: the moderation flood detector rightly stops repeated posts.
                    words = " ".join(rng.choice(VOCABULARY) for _ in range(10))
                    data = {"status": f"{words} {time.time_ns()}"}
                    if kind == "reply":
                        data["in_reply_to_id"] = rng.choice(recent)
                    async with session.post(
                        f"{base}/api/v1/statuses", data=data, headers=headers
                    ) as response:
                        body = await response.read()
                        status = response.status
                        if status >= 400 and len(FAILURES) < 5:
                            FAILURES.append(f"{status} {kind}: {body[:200]!r}")
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            samples.append(Sample(began - start, time.monotonic() - began, status, kind))
            next_at += 1.0 / rate


async def hostile_flood(
    base: str, rate: float, until: float, counts: HostileCounts, usernames: list[str]
) -> None:
    sessions = [session_from(address) for address in HOSTILE_ADDRESSES]
    tokens: dict[int, str] = {}
    for index, session in enumerate(sessions):  # bots fetch a real CSRF token first
        try:
            async with session.get(f"{base}/login") as response:
                found = re.search(r'name="csrf_token" value="([^"]+)"', await response.text())
                tokens[index] = found.group(1) if found else ""
        except (aiohttp.ClientError, TimeoutError):
            tokens[index] = ""
    inflight = 0
    rng = random.Random(11)

    async def one(n: int) -> None:
        nonlocal inflight
        index = n % len(sessions)
        session = sessions[index]
        kind = n % 3
        try:
            if kind == 0:
                form = {
                    "username": rng.choice(usernames),
                    "password": "wrong-password",
                    "csrf_token": tokens[index],
                }
                request = session.post(f"{base}/login", data=form, allow_redirects=False)
            elif kind == 1:
                request = session.get(f"{base}/search", params={"q": rng.choice(WORDS)})
            else:
                path = rng.choice(["/public", f"/tags/{rng.choice(WORDS)}", "/articles"])
                request = session.get(f"{base}{path}")
            async with request as response:
                await response.read()
                counts.add(response.status)
        except (aiohttp.ClientError, TimeoutError):
            counts.add(0)
        finally:
            inflight -= 1

    tasks: set[asyncio.Task[None]] = set()
    n = 0
    next_at = time.monotonic()
    while next_at < until:
        now = time.monotonic()
        if next_at > now:
            await asyncio.sleep(next_at - now)
        # Catch up in batches when the generator falls behind (it shares the CPU).
        due = max(1, int((time.monotonic() - next_at) * rate) + 1)
        for _ in range(min(due, 200)):
            if inflight >= MAX_HOSTILE_INFLIGHT:
                counts.not_sent += 1
            else:
                inflight += 1
                counts.sent += 1
                task = asyncio.create_task(one(n))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            n += 1
            next_at += 1.0 / rate
    if tasks:
        await asyncio.wait(tasks, timeout=12)
    for session in sessions:
        await session.close()


def run_hostile(
    base: str, rate: float, seconds: float, usernames: list[str]
) -> tuple[int, int, dict[int, int]]:
    """The flood, in a process of its own; returns (sent, not sent, statuses)."""
    counts = HostileCounts()

    async def flood() -> None:
        await hostile_flood(base, rate, time.monotonic() + seconds, counts, usernames)

    asyncio.run(flood())
    return counts.sent, counts.not_sent, counts.statuses


# ------------------------------------------------------------------------------------ report


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def phase_figures(samples: list[Sample], start: float, end: float) -> dict[str, Any]:
    chosen = [s for s in samples if start <= s.at < end]
    ok = [s for s in chosen if 200 <= s.status < 300]
    latencies = [s.latency * 1000 for s in ok]
    reads = [s.latency * 1000 for s in ok if s.kind == "home"]
    writes = [s.latency * 1000 for s in ok if s.kind != "home"]
    return {
        "requests": len(chosen),
        "success": len(ok) / len(chosen) if chosen else float("nan"),
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "p99_reads_ms": percentile(reads, 0.99),
        "p99_writes_ms": percentile(writes, 0.99),
        "failures": {
            str(status): sum(1 for s in chosen if s.status == status)
            for status in sorted({s.status for s in chosen if not 200 <= s.status < 300})
        },
    }


def recovery_seconds(samples: list[Sample], flood_end: float, run_end: float) -> float | None:
    """Seconds after the flood until every later 1-s window is all successes under the p99
    target."""
    windows = []
    t = flood_end
    while t < run_end - 0.5:
        chosen = [s for s in samples if t <= s.at < t + 1]
        good = bool(chosen) and all(
            200 <= s.status < 300 and s.latency * 1000 < TARGET_P99_MS for s in chosen
        )
        windows.append((t - flood_end, good))
        t += 1
    for index, (offset, _) in enumerate(windows):
        if all(good for _, good in windows[index:]):
            return offset
    return None


@dataclass
class RunResult:
    label: str
    capacity: float
    hostile_rate: float
    phases: dict[str, dict[str, Any]]
    recovery: float | None
    hostile: HostileCounts
    achieved_rate: float
    cpu_during: float
    cpu_before_per_s: float


async def run_once(
    label: str,
    shield: bool,
    workers: int,
    folder: Path,
    members: list[tuple[str, str]],
    capacity: float | None,
    args: argparse.Namespace,
) -> RunResult:
    port = free_port()
    server = start_server(folder, port, shield, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        if capacity is None:
            capacity = await measure_capacity(base, args.capacity_seconds)
        else:
            await measure_capacity(base, 1.0)  # warm-up only
        hostile_rate = capacity * args.factor
        print(f"[{label}] capacity {capacity:.0f} req/s; flood target {hostile_rate:.0f} req/s")
        samples: list[Sample] = []
        counts = HostileCounts()
        rng = random.Random(3)
        start = time.monotonic()
        flood_start = start + args.before
        flood_end = flood_start + args.during
        end = flood_end + args.after
        legit = [
            legit_member(
                base,
                f"127.0.0.{10 + n}",
                token,
                args.legit_rate,
                start,
                end,
                samples,
                random.Random(rng.random()),
            )
            for n, (_, token) in enumerate(members)
        ]
        cpu_marks: dict[str, float] = {"start": tree_cpu_seconds(server.pid)}

        async def flood() -> None:
            # The flood runs in its own process: in this one it would delay the legitimate
            # clients' own event loop and inflate the latencies they measure.
            await asyncio.sleep(flood_start - time.monotonic())
            cpu_marks["flood_start"] = tree_cpu_seconds(server.pid)
            loop = asyncio.get_running_loop()
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                found = await loop.run_in_executor(
                    pool,
                    run_hostile,
                    base,
                    hostile_rate,
                    args.during,
                    [u for u, _ in members],
                )
            cpu_marks["flood_end"] = tree_cpu_seconds(server.pid)
            counts.sent, counts.not_sent, counts.statuses = found

        await asyncio.gather(flood(), *legit)
        cpu_before_per_s = (cpu_marks["flood_start"] - cpu_marks["start"]) / args.before
        cpu_during = cpu_marks["flood_end"] - cpu_marks["flood_start"]
        phases = {
            "before": phase_figures(samples, 0, args.before),
            "during": phase_figures(samples, args.before, args.before + args.during),
            "after": phase_figures(samples, args.before + args.during, end - start),
        }
        recovery = recovery_seconds(samples, flood_end - start, end - start)
        return RunResult(
            label=label,
            capacity=capacity,
            hostile_rate=hostile_rate,
            phases=phases,
            recovery=recovery,
            hostile=counts,
            achieved_rate=counts.sent / args.during,
            cpu_during=cpu_during,
            cpu_before_per_s=cpu_before_per_s,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def describe(result: RunResult, args: argparse.Namespace) -> str:
    hostile = result.hostile
    refused_share = hostile.refused / hostile.answered if hostile.answered else float("nan")
    extra_cpu = max(0.0, result.cpu_during - result.cpu_before_per_s * args.during)
    per_request_ms = extra_cpu / hostile.answered * 1000 if hostile.answered else float("nan")
    during = result.phases["during"]
    verdict = (
        "met"
        if during["success"] >= TARGET_SUCCESS
        and during["p99_ms"] < TARGET_P99_MS
        and result.recovery is not None
        and result.recovery <= TARGET_RECOVERY_S
        else "not met"
    )
    lines = [
        f"### {result.label}",
        "",
        f"Capacity (anonymous public pages, 16 connections): {result.capacity:.0f} req/s. "
        f"Flood target {result.hostile_rate:.0f} req/s ({args.factor:g}x), achieved "
        f"{result.achieved_rate:.0f} req/s sent "
        f"({hostile.not_sent} not sent: generator at its in-flight cap).",
        "",
        "| legitimate traffic | requests | success | p50 | p99 | p99 reads | p99 writes "
        "| failures |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, phase in result.phases.items():
        lines.append(
            f"| {name} | {phase['requests']} | {phase['success'] * 100:.1f} % | "
            f"{phase['p50_ms']:.0f} ms | {phase['p99_ms']:.0f} ms | "
            f"{phase['p99_reads_ms']:.0f} ms | {phase['p99_writes_ms']:.0f} ms | "
            f"{json.dumps(phase['failures']) if phase['failures'] else '—'} |"
        )
    lines += [
        "",
        "Recovery after the flood: "
        + (f"{result.recovery:.0f} s" if result.recovery is not None else "not within the run"),
        "",
        f"Hostile requests answered: {hostile.answered}; refused (403 challenge, 429, 503): "
        f"{hostile.refused} ({refused_share * 100:.1f} %); by status: "
        f"{json.dumps(dict(sorted(hostile.statuses.items())))}.",
        f"Server CPU during the flood: {result.cpu_during:.1f} s over {args.during:g} s "
        f"(before: {result.cpu_before_per_s:.2f} s per s); extra CPU per hostile request: "
        f"{per_request_ms:.2f} ms.",
        f"Targets (legit success >= 99 %, p99 < 250 ms during, recovery <= 5 s): **{verdict}**.",
        "",
    ]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="parvis-flood-"))
    try:
        print(f"building the instance in {folder} ...")
        members = build_instance(folder / "template", args.members)
        runs = ["no-shield", "shield"] if args.only == "both" else [args.only]
        capacity: float | None = None
        results = []
        for label in runs:
            data = folder / label
            shutil.copytree(folder / "template", data)
            result = await run_once(
                label, label == "shield", args.workers, data, members, capacity, args
            )
            capacity = result.capacity
            text = describe(result, args)
            print(text)
            for failure in FAILURES:
                print("  legitimate failure:", failure)
            FAILURES.clear()
            results.append(text)
        write_report(results, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_report(sections: list[str], args: argparse.Namespace) -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    header = [
        f"# Flood — {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"`bench/flood.py --workers {args.workers} --members {args.members} "
        f"--legit-rate {args.legit_rate:g} --factor {args.factor:g} --before {args.before:g} "
        f"--during {args.during:g} --after {args.after:g}`; SQLite"
        + (f", {args.workers} workers sharing counters in Redis" if args.workers > 1 else "")
        + f". {os.cpu_count()} cores shared with the load generator and with other work "
        f"(load average at the end: {load[0]:.2f}).",
        "",
    ]
    path = REPORTS / "flood.md"
    path.write_text("\n".join(header + sections))
    print(f"report written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--members", type=int, default=16, help="legitimate members")
    parser.add_argument("--legit-rate", type=float, default=1.0, help="requests/s per member")
    parser.add_argument("--factor", type=float, default=10.0, help="flood = factor x capacity")
    parser.add_argument("--before", type=float, default=8.0, help="seconds before the flood")
    parser.add_argument("--during", type=float, default=20.0, help="seconds of flood")
    parser.add_argument("--after", type=float, default=10.0, help="seconds after the flood")
    parser.add_argument("--capacity-seconds", type=float, default=4.0)
    parser.add_argument("--only", choices=["both", "shield", "no-shield"], default="both")
    parser.add_argument("--no-shield", action="store_true", help="same as --only no-shield")
    args = parser.parse_args()
    if args.no_shield:
        args.only = "no-shield"
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
