"""Server CPU per live-room join, on its own: no storm, and almost nothing to relay.

    .venv/bin/python bench/joins.py                       # 3 runs of 3,000 joins
    .venv/bin/python bench/joins.py --baseline DIR        # and another version's code, alternating

`bench/live.py`'s storm mixes joins with relaying audio to everyone already in, so what a join
itself costs the server hides in its admission rate. Here one `parvis serve` (started as
`bench/live.py` starts it) holds one live room whose host sends one frame a second; listeners
join in batches of `--batch` concurrent handshakes (the upgrade, then the `welcome`), are all
closed after each run, and the figure is the server's CPU time over a run (from /proc) divided
by its joins. `--baseline DIR` also runs another version's code (a directory holding its
`parvis` package, e.g. from `git worktree add DIR <rev>`), the two alternating, each on a
fresh database. Writes bench/reports/joins.md.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import live  # bench/live.py: the server set-up, the host, the raw listener

REPORT = live.ROOT / "bench" / "reports" / "joins.md"


async def join_all(port: int, path: str, count: int, batch: int) -> list[socket.socket]:
    """`count` listeners joined, at most `batch` handshakes at a time; their sockets."""
    stats = live.Stats()
    joined: list[socket.socket] = []
    gate = asyncio.Semaphore(batch)

    async def one(index: int) -> None:
        async with gate:
            sock, _ = await live.join(f"127.0.0.{3 + index % 3}", port, path, stats)
            joined.append(sock)

    await asyncio.gather(*(one(index) for index in range(count)))
    return joined


def measure(code: Path, runs: int, joins: int, batch: int) -> list[float]:
    """Milliseconds of server CPU per join, one figure per run, for the code in `code`."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        room_id, cookie = live.prepare_with(code, data)
        ((server, port),) = live.start_servers(1, data, None, {}, code)
        path = f"/live/rooms/{room_id}/ws"
        ready = mp.Event()
        host = mp.Process(
            target=live._host_process,
            args=(f"ws://127.0.0.1:{port}{path}", cookie, 1, 3600.0, ready),
            daemon=True,
        )
        host.start()
        try:
            if not ready.wait(30):
                raise SystemExit("the host did not get into its room")
            for sock in asyncio.run(join_all(port, path, 200, batch)):  # warm-up
                sock.close()
            time.sleep(1.0)
            figures = []
            for _ in range(runs):
                before = live.proc_usage(server.pid)[0]
                sockets = asyncio.run(join_all(port, path, joins, batch))
                spent = live.proc_usage(server.pid)[0] - before
                figures.append(spent / joins * 1000)
                for sock in sockets:
                    sock.close()
                time.sleep(1.0)  # the server forgets them before the next run
            return figures
        finally:
            host.terminate()
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--joins", type=int, default=3000, help="joins per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=40, help="handshakes at once")
    parser.add_argument("--baseline", help="a directory holding another version's `parvis`")
    parser.add_argument("--rounds", type=int, default=1, help="alternations with --baseline")
    args = parser.parse_args()
    live.raise_fd_limit()
    codes = {"now": live.ROOT}
    if args.baseline:
        codes = {"baseline": Path(args.baseline).resolve(), **codes}
    results: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(args.rounds):
        for name, code in codes.items():
            figures = measure(code, args.runs, args.joins, args.batch)
            results[name] += figures
            shown = ", ".join(f"{value:.3f}" for value in figures)
            print(f"{name}: {shown} ms of server CPU per join", flush=True)
    lines = [
        "# Live-room joins: server CPU per join (`bench/joins.py`)",
        "",
        f"{args.joins} joins per run, {args.batch} handshakes at a time, one `parvis serve`, "
        "one live room, the host sending a frame a second; server CPU from /proc.",
        "",
        "| code | runs (ms per join) | median |",
        "| --- | --- | --- |",
    ]
    for name, figures in results.items():
        label = f"{name} (`{codes[name]}`)"
        shown = ", ".join(f"{value:.3f}" for value in figures)
        lines.append(f"| {label} | {shown} | **{statistics.median(figures):.3f}** |")
    lines += ["", f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC."]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
