"""Live-room benchmark: a join storm of WebSocket listeners on one room while the host speaks.

    .venv/bin/python bench/live.py        # 10,000 listeners in 10 s; 1, then 2 processes
    .venv/bin/python bench/live.py --listeners 2000 --processes 1   # quick run

The host sends 50 frames/s (MediaRecorder-shaped WebM, 80-byte Opus-sized blocks carrying the
send time). Listeners join evenly over `--join-seconds` from several client processes, each
bound to its own 127.0.0.x source address (ephemeral ports), with `ulimit -n` raised to the
hard limit. Listener sockets are a minimal asyncio WebSocket client: every one reads all it
is sent (counting bytes); one in `--sample` also parses records to measure the delay from the
host's send to arrival, and sequence gaps (frames dropped for it). Servers are uvicorn on
127.0.0.1 (two of them share the load through Redis in the second run); their CPU and memory
come from /proc. Figures are printed and written to bench/reports/live.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from parvis.live.relay import MEDIA, RECORD_HEADER  # noqa: E402
from parvis.live.webm import SIMPLE_BLOCK, _header, recorder_like_stream  # noqa: E402

REPORT = ROOT / "bench" / "reports" / "live.md"
CLK = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> int:
    """Raise the open-files limit to the hard limit (10,000 sockets need it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- Set-up: a database with a host and a live room ------------------------------------------


def prepare(data_dir: Path) -> tuple[int, str]:
    from parvis.accounts import services as accounts
    from parvis.config import Settings
    from parvis.live import rooms
    from parvis.runtime import Runtime
    from parvis.storage import migrate

    settings = Settings(data_dir=data_dir, secret_key="bench-secret-key-0123456789abcdef")
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.db.engine)
    with runtime.db.session() as session:
        host = accounts.create_user(
            session,
            settings,
            username="benchhost",
            email="host@bench.invalid",
            password="bench-password-not-secret",
            verified=True,
            check_strength=False,
        )
        room_id = rooms.schedule_room(session, host, title="Bench interview").id
        cookie, _ = accounts.start_web_session(session, settings, host)
    runtime.db.dispose()
    return room_id, cookie


def start_servers(count: int, data_dir: Path, redis_prefix: str | None) -> list[tuple[Any, int]]:
    env = {
        **os.environ,
        "PARVIS_DATA_DIR": str(data_dir),
        "PARVIS_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PARVIS_LINK_CHECK_ENABLED": "false",
        # The loopback storm comes from a handful of addresses; real listeners come from many.
        "PARVIS_SHIELD_LIVE_PER_ADDRESS": "1000000/minute",
        "PARVIS_SHIELD_LIVE_PER_ACCOUNT": "1000000/minute",
    }
    if redis_prefix:
        env["PARVIS_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["PARVIS_LIVE_REDIS_PREFIX"] = redis_prefix
    servers = []
    for _ in range(count):
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "parvis.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += ["--backlog", "4096", "--loop", "uvloop", "--http", "httptools"]
        process = subprocess.Popen(command, env=env, preexec_fn=raise_fd_limit)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start")
        servers.append((process, port))
        print(f"server pid {process.pid} on port {port}", file=sys.stderr, flush=True)
    return servers


def proc_usage(pid: int) -> tuple[float, int]:
    """(CPU seconds used, resident bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return cpu, rss


# --- The host: a real WebSocket client sending 50 frames/s ------------------------------------


async def host_loop(url: str, cookie: str, fps: int, seconds: float, ready: Any) -> int:
    from websockets.asyncio.client import connect

    frames = int(fps * seconds)
    async with connect(
        url, additional_headers={"Cookie": f"parvis_session={cookie}"}, compression=None
    ) as ws:
        while True:
            if json.loads(await ws.recv())["type"] == "welcome":
                break
        ready.set()
        start = time.monotonic()
        template = recorder_like_stream([b"\0" * 80] * 2)
        header = template[0][: template[0].index(template[1][:4])]  # up to the first block
        for index in range(frames):
            payload = struct.pack(">dI", time.time(), index) + b"\0" * 68
            relative = (index * 20) % 30000
            block = bytes([SIMPLE_BLOCK]) + bytes([0x80 | 84]) + b"\x81"
            block += relative.to_bytes(2, "big") + b"\x80" + payload
            if index and (index * 20) % 30000 == 0:
                block = (
                    bytes.fromhex("1f43b675")
                    + b"\x01\xff\xff\xff\xff\xff\xff\xff"
                    + bytes([0xE7, 0x84])
                    + (index * 20).to_bytes(4, "big")
                    + block
                )
            await ws.send(header + block if index == 0 else block)
            delay = start + (index + 1) / fps - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
    return frames


# --- Listeners: a minimal WebSocket client protocol -------------------------------------------


class Listener(asyncio.Protocol):
    def __init__(self, host: str, path: str, sample: bool, results: dict[str, Any]) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.sample = sample
        self.results = results
        self.started = time.monotonic()
        self.upgraded = False
        self.welcomed = False
        self.buffer = bytearray()
        self.last_seq: int | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.results["bytes"] += len(data)
        if not self.sample and self.welcomed:
            return
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.results["refused"] += 1
                self.transport.close()
                return
            self.upgraded = True
            del self.buffer[: end + 4]
        if not self.sample:
            if b'"welcome"' in self.buffer:
                self._welcome()
                self.buffer.clear()
            elif len(self.buffer) > 65536:
                del self.buffer[:-64]
            return
        self._frames()

    def _welcome(self) -> None:
        self.welcomed = True
        self.results["joins"].append(time.monotonic() - self.started)
        self.results["welcomed_at"].append(time.time())

    def _frames(self) -> None:
        data = self.buffer
        while len(data) >= 2:
            length = data[1] & 0x7F
            pos = 2
            if length == 126:
                if len(data) < 4:
                    return
                length, pos = struct.unpack_from(">H", data, 2)[0], 4
            elif length == 127:
                if len(data) < 10:
                    return
                length, pos = struct.unpack_from(">Q", data, 2)[0], 10
            if len(data) < pos + length:
                return
            opcode = data[0] & 0x0F
            body = bytes(data[pos : pos + length])
            del data[: pos + length]
            if opcode == 1 and not self.welcomed and b'"welcome"' in body:
                self._welcome()
            elif opcode == 2 and self.welcomed:
                self._records(body)

    def _records(self, body: bytes) -> None:
        now = time.time()
        pos = 0
        while pos < len(body):
            kind, _stream, seq, _received, length = RECORD_HEADER.unpack_from(body, pos)
            pos += RECORD_HEADER.size
            payload = body[pos : pos + length]
            pos += length
            if kind != MEDIA:
                continue
            if self.last_seq is not None and seq > self.last_seq + 1:
                self.results["gaps"] += seq - self.last_seq - 1
            self.last_seq = seq
            self.results["frames"] += 1
            cluster_head = _header(payload, 0)
            assert cluster_head is not None
            inner = cluster_head[2]
            while inner < len(payload):
                child = _header(payload, inner)
                assert child is not None
                element_id, size, head = child
                if element_id == SIMPLE_BLOCK:
                    sent = struct.unpack_from(">d", payload, inner + head + 4)[0]
                    self.results["delays"].append(now - sent)
                inner += head + size

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def client_worker(
    index: int,
    ports: list[int],
    path: str,
    count: int,
    join_seconds: float,
    listen_until: float,
    sample_every: int,
    queue: Any,
) -> None:
    raise_fd_limit()
    # Listeners would be on other machines: the server gets the CPU before them here.
    os.nice(10)
    import uvloop

    results: dict[str, Any] = {
        "joins": [],
        "welcomed_at": [],
        "delays": [],
        "gaps": 0,
        "frames": 0,
        "bytes": 0,
        "refused": 0,
        "errors": 0,
        "sampled": 0,
    }
    source = f"127.0.0.{2 + index}"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        listeners: list[Listener] = []
        start = time.time()

        async def one(number: int) -> None:
            port = ports[number % len(ports)]
            sample = number % sample_every == 0
            try:
                _, protocol = await loop.create_connection(
                    lambda: Listener(f"127.0.0.1:{port}", path, sample, results),
                    "127.0.0.1",
                    port,
                    local_addr=(source, 0),
                )
                listeners.append(protocol)
                results["sampled"] += int(sample)
            except OSError:
                results["errors"] += 1

        tasks = []
        for number in range(count):
            due = start + join_seconds * number / count
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number * 64 + index)))
        await asyncio.gather(*tasks)
        await asyncio.sleep(max(0.0, listen_until - time.time()))
        for protocol in listeners:
            protocol.transport.close()

    uvloop.run(main())
    results["unwelcomed"] = count - len(results["joins"]) - results["errors"]
    queue.put(results)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(processes: int, listeners: int, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="parvis-bench-live-"))
    try:
        room_id, cookie = prepare(data_dir)
        prefix = f"parvis-bench-{uuid.uuid4().hex[:8]}:" if processes > 1 else None
        servers = start_servers(processes, data_dir, prefix)
        ports = [port for _, port in servers]
        path = f"/live/rooms/{room_id}/ws"
        usage_before = [proc_usage(p.pid) for p, _ in servers]
        ready = mp.get_context("spawn").Event()
        speak_seconds = args.join_seconds + args.listen_seconds + 3
        host = mp.get_context("spawn").Process(
            target=_host_process,
            args=(f"ws://127.0.0.1:{ports[0]}{path}", cookie, args.fps, speak_seconds, ready),
        )
        host.start()
        ready.wait(30)
        time.sleep(1.0)
        queue = mp.get_context("spawn").Queue()
        per = listeners // args.clients
        listen_until = time.time() + args.join_seconds + args.listen_seconds + 2
        workers = [
            mp.get_context("spawn").Process(
                target=client_worker,
                args=(
                    i,
                    ports,
                    path,
                    per,
                    args.join_seconds,
                    listen_until,
                    args.sample,
                    queue,
                ),
            )
            for i in range(args.clients)
        ]
        started = time.time()
        for worker in workers:
            worker.start()
        peak_rss = [0] * len(servers)
        while time.time() < listen_until + 1:
            for i, (process, _) in enumerate(servers):
                peak_rss[i] = max(peak_rss[i], proc_usage(process.pid)[1])
            time.sleep(0.5)
        parts = [queue.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(30)
        usage_after = [proc_usage(p.pid) for p, _ in servers]
        elapsed = time.time() - started
        host.join(60)
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    joins = [t for part in parts for t in part["joins"]]
    welcomed = [t for part in parts for t in part["welcomed_at"]]
    delays = [t for part in parts for t in part["delays"]]
    frames = sum(part["frames"] for part in parts)
    gaps = sum(part["gaps"] for part in parts)
    cpu = [after[0] - before[0] for before, after in zip(usage_before, usage_after, strict=True)]
    return {
        "processes": processes,
        "listeners": listeners,
        "joined": len(joins),
        "refused": sum(part["refused"] for part in parts),
        "connect_errors": sum(part["errors"] for part in parts),
        "not_admitted": sum(part["unwelcomed"] for part in parts),
        "admission_rate": len(joins) / max(1e-9, max(welcomed, default=started) - started),
        "join_p50_ms": percentile(joins, 0.5) * 1000,
        "join_p99_ms": percentile(joins, 0.99) * 1000,
        "sampled_listeners": sum(part["sampled"] for part in parts),
        "frames_sampled": frames,
        "delay_p50_ms": percentile(delays, 0.5) * 1000,
        "delay_p99_ms": percentile(delays, 0.99) * 1000,
        "dropped_sampled": gaps,
        "dropped_share": gaps / max(1, frames + gaps),
        "server_cpu_percent": [round(100 * c / elapsed, 1) for c in cpu],
        "server_peak_rss_mb": [round(r / 2**20, 1) for r in peak_rss],
        "bytes_received": sum(part["bytes"] for part in parts),
        "seconds": round(elapsed, 1),
    }


def _host_process(url: str, cookie: str, fps: int, seconds: float, ready: Any) -> None:
    asyncio.run(host_loop(url, cookie, fps, seconds, ready))


def report(results: list[dict[str, Any]], args: argparse.Namespace, load: str, end: str) -> str:
    lines = [
        "# Live room benchmark (`bench/live.py`)",
        "",
        f"WebSocket listeners join one room over {args.join_seconds:g} s from "
        f"{args.clients} client processes (127.0.0.2-{1 + args.clients}), then listen "
        f"{args.listen_seconds:g} s more; the host sends {args.fps} frames/s throughout. "
        f"Delays are measured on 1 listener in {args.sample} (host send time to arrival, same "
        "clock). Machine: 2 cores shared with other agents' work during the run "
        f"(load average {load} at start, {end} at the end); client processes run on the same "
        "cores. The first column is a light baseline in the same run.",
        "",
        "| | "
        + " | ".join(
            f"{r['listeners']:,} listeners, {r['processes']} process"
            + ("es + Redis" if r["processes"] > 1 else "")
            for r in results
        )
        + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
    ]
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        (
            "listeners admitted / refused",
            lambda r: (
                f"{r['joined']} / {r['refused']}"
                + (
                    f" (+{r['connect_errors']} connect errors, {r['not_admitted']} not admitted)"
                    if r["connect_errors"] or r["not_admitted"]
                    else ""
                )
            ),
        ),
        (
            "admission rate (joins/s, first connect to last welcome)",
            lambda r: f"{r['admission_rate']:.0f}",
        ),
        ("join time p50 / p99 (ms)", lambda r: f"{r['join_p50_ms']:.0f} / {r['join_p99_ms']:.0f}"),
        (
            "frame delay p50 / p99 (ms)",
            lambda r: f"{r['delay_p50_ms']:.1f} / {r['delay_p99_ms']:.1f}",
        ),
        (
            "frames dropped (sampled listeners)",
            lambda r: (
                f"{r['dropped_sampled']} of {r['frames_sampled'] + r['dropped_sampled']}"
                f" ({100 * r['dropped_share']:.2f} %)"
            ),
        ),
        (
            "server CPU (% of one core, each)",
            lambda r: ", ".join(map(str, r["server_cpu_percent"])),
        ),
        ("server peak memory (MB, each)", lambda r: ", ".join(map(str, r["server_peak_rss_mb"]))),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")
    lines += ["", "Target: p99 frame delay under 150 ms with 10,000 listeners, nobody refused.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--join-seconds", type=float, default=10.0)
    parser.add_argument("--listen-seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--baseline", type=int, default=1000, help="listeners; 0 to skip")
    args = parser.parse_args()
    hard = raise_fd_limit()
    if hard < args.listeners // args.clients + 1000:
        raise SystemExit(f"open-files hard limit {hard} is too low for this many listeners")
    load = Path("/proc/loadavg").read_text().split()[0]
    results = []
    plan = [(1, args.baseline)] if args.baseline else []
    plan += [(int(p), args.listeners) for p in args.processes.split(",")]
    for processes, listeners in plan:
        result = run(processes, listeners, args)
        print(json.dumps(result), flush=True)
        results.append(result)
    end = Path("/proc/loadavg").read_text().split()[0]
    text = report(results, args, load, end)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
