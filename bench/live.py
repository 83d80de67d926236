"""Live-room benchmark: a join storm of WebSocket listeners on one room while the host speaks.

    .venv/bin/python bench/live.py        # 10,000 listeners in 10 s; 1, then 2 processes + Redis
    .venv/bin/python bench/live.py --listeners 2000 --processes 1 --repeat 1   # quick run

The host sends 50 frames/s (MediaRecorder-shaped WebM, 80-byte Opus-sized blocks carrying the
send time) from its own process. Listeners join evenly over `--join-seconds` and listen
`--listen-seconds` more. Servers are `parvis serve` on 127.0.0.1, as deployed; in the second
configuration two of them share the room through Redis, listeners alternating between them,
and (`2/shared`) splitting one process's write budget so that together they write to
listeners as often as one process would (what `parvis serve --workers 2` sets by itself).
Their CPU and memory come from /proc, their counters and histograms (frames relayed and
dropped, server-side delays, flush lateness) from /metrics.

The load generator runs on the same two cores as the servers, so it is built to cost as little
as possible, as if the listeners were on other machines:

- Bulk listeners (`--clients` processes, each on its own 127.0.0.x source address) are raw
  non-blocking sockets: a hand-written upgrade request, `sock_recv` until the `welcome` event
  (that is the join time, split into TCP connection, upgrade and welcome), then no
  per-message work at all: every `--drain-ms` one pass reads whatever each socket holds, so
  every byte the server sends is still read (the server sees no back-pressure it would not
  see from real listeners) but the readers are not woken for every message.
- One listener in `--sample` joins from a separate probe process that reads as soon as data
  arrives, parses every WebSocket frame and record, and measures each frame's delay (the
  host's send time carried in the block, to arrival; same clock) and sequence gaps (frames
  dropped for it).

The machine is shared with other people's work, so every run first waits (up to
`--quiet-wait`) until other work uses under `--quiet-below` % of a core, and the report gives
how busy the machine was during each configuration and the load averages. Every
configuration is run `--repeat` times; the report gives the median of each figure (the
per-run p99 delays are listed too). Figures are printed and written to bench/reports/live.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code under test: this checkout, or (for `--baseline`'s set-up step) another one.
CODE = Path(os.environ.get("PARVIS_BENCH_CODE", ROOT))
sys.path.insert(0, str(CODE))

from parvis.live.relay import MEDIA, RECORD_HEADER  # noqa: E402
from parvis.live.webm import SIMPLE_BLOCK, _header, recorder_like_stream  # noqa: E402

REPORT = ROOT / "bench" / "reports" / "live.md"
CLK = os.sysconf("SC_CLK_TCK")
WELCOME = b'"type":"welcome"'
WAITING = b'"type":"waiting"'
HISTOGRAMS = (
    "parvis_live_frame_delay_seconds",
    "parvis_live_bus_delay_seconds",
    "parvis_live_flush_lateness_seconds",
)
METRICS = (
    "parvis_live_admitted_total",
    "parvis_live_frames_received_total",
    "parvis_live_frames_relayed_total",
    "parvis_live_dropped_frames_total",
)


def raise_fd_limit() -> int:
    """Raise the open-files limit to the hard limit (10,000 sockets need it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loadavg() -> str:
    """The 1-minute load average (the machine is shared: every figure is quoted with it)."""
    return Path("/proc/loadavg").read_text().split()[0]


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK


def wait_for_quiet(below: float, longest: float) -> float:
    """Wait (up to `longest` seconds) until other work on the machine uses less than `below`
    percent of one core over 3 s; returns the last measured figure."""
    deadline = time.monotonic() + longest
    while True:
        before = machine_busy()
        time.sleep(3)
        busy = 100 * (machine_busy() - before) / 3
        if busy < below or time.monotonic() > deadline:
            return busy
        print(f"machine busy ({busy:.0f} % of a core), waiting", file=sys.stderr, flush=True)


# --- Set-up: a database with a host and a live room ------------------------------------------


def prepare_with(code: Path, data_dir: Path) -> tuple[int, str]:
    """`prepare` in a child process running the code in `code` (its schema, its accounts)."""
    env = {**os.environ, "PYTHONPATH": str(code), "PARVIS_BENCH_CODE": str(code)}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--prepare", str(data_dir)],
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    room_id, cookie = json.loads(done.stdout.strip().splitlines()[-1])
    return int(room_id), str(cookie)


def prepare(data_dir: Path) -> tuple[int, str]:
    """Create the database, the host and a live room; returns (room id, host session cookie)."""
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


def start_servers(
    count: int, data_dir: Path, redis_prefix: str | None, extra_env: dict[str, str], code: Path
) -> list[tuple[subprocess.Popen[bytes], int]]:
    """Start `count` servers running the code in `code` on the same database (and Redis when
    several)."""
    env = {
        **os.environ,
        "PARVIS_DATA_DIR": str(data_dir),
        "PARVIS_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PARVIS_LINK_CHECK_ENABLED": "false",
        # The loopback storm comes from a handful of addresses; real listeners come from many.
        "PARVIS_SHIELD_LIVE_PER_ADDRESS": "1000000/minute",
        "PARVIS_SHIELD_LIVE_PER_ACCOUNT": "1000000/minute",
        **extra_env,
    }
    if redis_prefix:
        env["PARVIS_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["PARVIS_LIVE_REDIS_PREFIX"] = redis_prefix
    servers = []
    for _ in range(count):
        port = free_port()
        # As deployed: `parvis serve` (uvicorn with uvloop and httptools, the shield's
        # slow-client limits, no proxy headers), one process each.
        command = [sys.executable, "-m", "parvis", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port)]
        process = subprocess.Popen(
            command,
            env=env,
            cwd=code,  # `python -m` looks in the working directory first
            preexec_fn=raise_fd_limit,
            stdout=subprocess.DEVNULL,
        )
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


def redis_cpu() -> float:
    """CPU seconds the local Redis has used (0 if it is not running)."""
    import redis

    try:
        info = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).info("cpu")
    except redis.RedisError:
        return 0.0
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def server_counters(port: int) -> dict[str, float]:
    """The live-room counters of one server, from its /metrics (answered to loopback)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {}
    for name in METRICS:
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        found[name] = float(match.group(1)) if match else 0.0
    for name in HISTOGRAMS:
        for bound, count in re.findall(
            rf'^{name}_bucket{{le="([^"]+)"}} ([0-9.e+]+)$', text, re.MULTILINE
        ):
            found[f"{name}<={bound}"] = float(count)
    return found


def histogram_p99(counts: dict[str, float], name: str) -> float | None:
    """The upper bound (ms) of the bucket holding a histogram's 99th percentile."""
    buckets = sorted(
        (float(key.split("<=")[1]), value)
        for key, value in counts.items()
        if key.startswith(f"{name}<=")
    )
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    for bound, cumulative in buckets:
        if cumulative >= 0.99 * total:
            return bound * 1000
    return None


# --- The host: a real WebSocket client sending 50 frames/s ------------------------------------


async def host_loop(url: str, cookie: str, fps: int, seconds: float, ready: Any) -> int:
    """Speak for `seconds`: one MediaRecorder-like chunk per frame, each carrying its send
    time (wall clock) in the first 8 bytes of the Opus payload."""
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


def _host_process(url: str, cookie: str, fps: int, seconds: float, ready: Any) -> None:
    import uvloop

    uvloop.run(host_loop(url, cookie, fps, seconds, ready))


# --- Listeners ----------------------------------------------------------------------------------


@dataclass
class Stats:
    """What one client process saw (sent back to the parent as a dict)."""

    joins: list[float] = field(default_factory=list)  # seconds from connect to welcome
    connected: list[float] = field(default_factory=list)  # seconds to the TCP connection
    upgraded: list[float] = field(default_factory=list)  # seconds to the 101 response
    welcomed_at: list[float] = field(default_factory=list)  # wall clock of each welcome
    delays: list[tuple[float, float, int]] = field(default_factory=list)  # (at, delay, port)
    gaps: int = 0
    frames: int = 0
    bytes: int = 0
    refused: int = 0  # an HTTP answer other than 101
    errors: int = 0  # connect or socket errors before the welcome
    closed_early: int = 0  # closed by the server before the welcome
    closed_later: int = 0  # closed by the server while listening
    queued: int = 0  # told to wait in line at least once
    queued_joined: int = 0  # of those, welcomed before the run ended
    sampled: int = 0
    cpu_seconds: float = 0.0


def upgrade_request(host: str, path: str) -> bytes:
    """A WebSocket opening handshake (RFC 6455 section 4.1), no extensions."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
    ).encode()


async def join(source: str, port: int, path: str, stats: Stats) -> tuple[socket.socket, bytes]:
    """Connect, upgrade and wait for the welcome; returns the socket and the bytes received
    after the upgrade response. Raises ConnectionError (already counted) on failure."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.bind((source, 0))
    started = time.monotonic()
    buffer = b""
    upgraded = False
    seen_waiting = False
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        stats.connected.append(time.monotonic() - started)
        await loop.sock_sendall(sock, upgrade_request(f"127.0.0.1:{port}", path))
        while True:
            data = await loop.sock_recv(sock, 65536)
            if not data:
                stats.closed_early += 1
                raise ConnectionError("closed before the welcome")
            stats.bytes += len(data)
            buffer += data
            if not upgraded:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    continue
                if not buffer.startswith(b"HTTP/1.1 101"):
                    stats.refused += 1
                    raise ConnectionError("refused")
                upgraded = True
                stats.upgraded.append(time.monotonic() - started)
                buffer = buffer[end + 4 :]
            if not seen_waiting and WAITING in buffer:
                seen_waiting = True
                stats.queued += 1
            if WELCOME in buffer:
                stats.queued_joined += seen_waiting
                stats.joins.append(time.monotonic() - started)
                stats.welcomed_at.append(time.time())
                return sock, buffer
    except OSError:
        stats.errors += 1
        sock.close()
        raise ConnectionError("socket error") from None
    except ConnectionError:
        sock.close()
        raise


class Probe:
    """A sampled listener: reads as soon as data arrives and parses every frame and record."""

    def __init__(self, sock: socket.socket, received: bytes, stats: Stats, port: int) -> None:
        self.sock = sock
        self.port = port
        self.stats = stats
        self.buffer = bytearray(received)
        self.last_seq: int | None = None
        self.open = True
        self._frames()

    def readable(self) -> None:
        """Read everything available, then parse."""
        while True:
            try:
                data = self.sock.recv(262144)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.close(by_server=True)
                return
            self.stats.bytes += len(data)
            self.buffer += data
            if len(data) < 262144:
                break
        self._frames()

    def close(self, *, by_server: bool = False) -> None:
        """Stop reading (at the end, or when the server closed the socket)."""
        if not self.open:
            return
        self.open = False
        if by_server:
            self.stats.closed_later += 1
        asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()

    def _frames(self) -> None:
        data = self.buffer
        pos = 0
        while len(data) - pos >= 2:
            length = data[pos + 1] & 0x7F
            start = pos + 2
            if length == 126:
                if len(data) - pos < 4:
                    break
                length, start = struct.unpack_from(">H", data, pos + 2)[0], pos + 4
            elif length == 127:
                if len(data) - pos < 10:
                    break
                length, start = struct.unpack_from(">Q", data, pos + 2)[0], pos + 10
            if len(data) < start + length:
                break
            if data[pos] & 0x0F == 2:
                self._records(bytes(data[start : start + length]))
            pos = start + length
        del data[:pos]

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
                self.stats.gaps += seq - self.last_seq - 1
            self.last_seq = seq
            self.stats.frames += 1
            cluster_head = _header(payload, 0)
            assert cluster_head is not None
            inner = cluster_head[2]
            while inner < len(payload):
                child = _header(payload, inner)
                assert child is not None
                element_id, size, head = child
                if element_id == SIMPLE_BLOCK:
                    sent = struct.unpack_from(">d", payload, inner + head + 4)[0]
                    self.stats.delays.append((now, now - sent, self.port))
                inner += head + size


async def drain_forever(socks: list[socket.socket], stats: Stats, every: float) -> None:
    """Every `every` seconds, read whatever each bulk listener's socket holds (counting bytes);
    a socket the server closed is counted and dropped."""
    buffer = bytearray(262144)
    while True:
        await asyncio.sleep(every)
        gone = []
        for sock in socks:
            while True:
                try:
                    count = sock.recv_into(buffer)
                except BlockingIOError:
                    break
                except OSError:
                    count = 0
                if count == 0:
                    gone.append(sock)
                    break
                stats.bytes += count
                if count < len(buffer):
                    break
        for sock in gone:
            stats.closed_later += 1
            socks.remove(sock)
            sock.close()


def client_worker(
    source: str,
    plan: list[tuple[float, int]],
    path: str,
    start: float,
    listen_until: float,
    probe: bool,
    drain_seconds: float,
    nice: int,
    queue: Any,
) -> None:
    """One client process: join `plan` listeners ((seconds after `start`, port) each), then
    listen until `listen_until` (wall clock). Probes parse everything; bulk listeners drain."""
    raise_fd_limit()
    if not probe and nice:
        # Bulk listeners would be on other machines: the servers get the CPU before them.
        os.nice(nice)
    import uvloop

    stats = Stats()
    # CPU from the storm's start only: not the interpreter's start-up and imports.
    at_start = 0.0

    async def main() -> None:
        nonlocal at_start
        await asyncio.sleep(max(0.0, start - time.time()))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        at_start = usage.ru_utime + usage.ru_stime
        loop = asyncio.get_running_loop()
        socks: list[socket.socket] = []
        probes: list[Probe] = []
        drainer = None if probe else asyncio.create_task(drain_forever(socks, stats, drain_seconds))

        async def one(port: int) -> None:
            try:
                sock, received = await join(source, port, path, stats)
            except ConnectionError:
                return
            if probe:
                listener = Probe(sock, received, stats, port)
                probes.append(listener)
                loop.add_reader(sock.fileno(), listener.readable)
                stats.sampled += 1
            else:
                socks.append(sock)

        tasks = []
        for due, port in plan:
            delay = start + due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(port)))
        await asyncio.sleep(max(0.0, listen_until - time.time()))
        for task in tasks:
            task.cancel()
        if drainer is not None:
            drainer.cancel()
        for listener in probes:
            listener.close()
        for sock in socks:
            sock.close()

    uvloop.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats.cpu_seconds = usage.ru_utime + usage.ru_stime - at_start
    queue.put(asdict(stats))


# --- One run --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank), NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plan_listeners(
    listeners: int, join_seconds: float, ports: list[int], clients: int, sample: int
) -> tuple[list[tuple[float, int]], list[list[tuple[float, int]]]]:
    """Who joins when, where: (probe plan, bulk plans). Listener n joins at
    n/listeners of the window; one in `sample` is a probe; ports alternate (probes too)."""
    probe: list[tuple[float, int]] = []
    bulk: list[list[tuple[float, int]]] = [[] for _ in range(clients)]
    for n in range(listeners):
        due = join_seconds * n / listeners
        if n % sample == 0:
            probe.append((due, ports[len(probe) % len(ports)]))
        else:
            bulk[n % clients].append((due, ports[n % len(ports)]))
    return probe, bulk


def run(
    processes: int, shared: bool, listeners: int, args: argparse.Namespace, code: Path
) -> dict[str, Any]:
    """Start the servers and the host, run the storm, collect and summarise. `shared`: the
    servers split one process's write budget (`live_max_writes_per_second`) between them, so
    that together they write to listeners as often as one process would."""
    from parvis.config import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="parvis-bench-live-"))
    extra_env = {"PYTHONPATH": str(code), **dict(item.split("=", 1) for item in args.env)}
    if shared:
        budget = Settings.model_fields["live_max_writes_per_second"].default
        extra_env["PARVIS_LIVE_MAX_WRITES_PER_SECOND"] = str(budget / processes)
    spawn = mp.get_context("spawn")
    quiet = wait_for_quiet(args.quiet_below, args.quiet_wait) if args.quiet_below else None
    load_before = loadavg()
    try:
        room_id, cookie = prepare_with(code, data_dir)
        prefix = f"parvis-bench-{uuid.uuid4().hex[:8]}:" if processes > 1 else None
        servers = start_servers(processes, data_dir, prefix, extra_env, code)
        ports = [port for _, port in servers]
        path = f"/live/rooms/{room_id}/ws"
        ready = spawn.Event()
        speak_seconds = args.join_seconds + args.listen_seconds + 6
        host = spawn.Process(
            target=_host_process,
            args=(f"ws://127.0.0.1:{ports[0]}{path}", cookie, args.fps, speak_seconds, ready),
        )
        host.start()
        if not ready.wait(30):
            raise SystemExit("the host did not get in")
        queue = spawn.Queue()
        probe_plan, bulk_plans = plan_listeners(
            listeners, args.join_seconds, ports, args.clients, args.sample
        )
        start = time.time() + 3.0  # every client process imported and waiting
        listen_until = start + args.join_seconds + args.listen_seconds
        workers = [
            spawn.Process(
                target=client_worker,
                args=(
                    f"127.0.0.{2 + i}",
                    plan,
                    path,
                    start,
                    listen_until,
                    i == 0,
                    args.drain_ms / 1000,
                    args.client_nice,
                    queue,
                ),
            )
            for i, plan in enumerate([probe_plan, *bulk_plans])
        ]
        for worker in workers:
            worker.start()
        time.sleep(max(0.0, start - time.time()))
        usage_before = [proc_usage(p.pid) for p, _ in servers]
        host_before = proc_usage(host.pid or 0)[0]
        busy_before = machine_busy()
        redis_before = redis_cpu()
        counters_before = [server_counters(port) for port in ports]
        metrics_failures = 0
        peak_rss = [0] * len(servers)
        usage_storm_end: list[tuple[float, int]] | None = None
        while time.time() < listen_until:
            for i, (process, _) in enumerate(servers):
                peak_rss[i] = max(peak_rss[i], proc_usage(process.pid)[1])
            if usage_storm_end is None and time.time() >= start + args.join_seconds:
                usage_storm_end = [proc_usage(p.pid) for p, _ in servers]
            time.sleep(0.5)
        assert usage_storm_end is not None
        usage_after = [proc_usage(p.pid) for p, _ in servers]
        host_cpu = proc_usage(host.pid or 0)[0] - host_before
        busy = machine_busy() - busy_before
        redis_used = redis_cpu() - redis_before
        elapsed = time.time() - start
        try:
            counters_after = [server_counters(port) for port in ports]
        except OSError as exc:
            # Seen twice in ~40 runs on 2026-12-04 (connection reset, server alive; not
            # explained yet): said, then asked once more rather than losing the run.
            died = [(p.pid, p.poll()) for p, _ in servers]
            print(
                f"/metrics failed after the run ({exc}); servers (pid, exit): {died}; asking again",
                file=sys.stderr,
                flush=True,
            )
            metrics_failures += 1
            time.sleep(1)
            counters_after = [server_counters(port) for port in ports]
        parts = [queue.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(30)
        host.join(60)
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            process.wait(30)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    joins = [t for part in parts for t in part["joins"]]
    welcomed = [t for part in parts for t in part["welcomed_at"]]
    delays = [(d[0], d[1]) for part in parts for d in part["delays"]]
    by_server = {
        port: [d[1] for part in parts for d in part["delays"] if d[2] == port] for port in ports
    }
    storm_end = start + args.join_seconds
    during = [d for at, d in delays if at < storm_end]
    after = [d for at, d in delays if at >= storm_end]
    frames = sum(part["frames"] for part in parts)
    gaps = sum(part["gaps"] for part in parts)
    cpu = [after[0] - before[0] for before, after in zip(usage_before, usage_after, strict=True)]
    cpu_joining = [
        mid[0] - before[0] for before, mid in zip(usage_before, usage_storm_end, strict=True)
    ]
    cpu_after = [after[0] - mid[0] for mid, after in zip(usage_storm_end, usage_after, strict=True)]
    counters = {
        name: sum(a[name] - b[name] for a, b in zip(counters_after, counters_before, strict=True))
        for name in METRICS
    }
    histograms = [
        {key: after.get(key, 0.0) - before.get(key, 0.0) for key in after if "<=" in key}
        for before, after in zip(counters_before, counters_after, strict=True)
    ]
    per_second: dict[int, list[float]] = {}
    for at, delay in delays:
        per_second.setdefault(int(at - start), []).append(delay)
    return {
        "code": "as found" if code != ROOT else "now",
        "processes": processes,
        "shared_budget": shared,
        "listeners": listeners,
        "joined": len(joins),
        "refused": sum(part["refused"] for part in parts),
        "connect_errors": sum(part["errors"] for part in parts),
        "closed_early": sum(part["closed_early"] for part in parts),
        "closed_later": sum(part["closed_later"] for part in parts),
        "queued": sum(part["queued"] for part in parts),
        "not_admitted": listeners - len(joins),
        # Of those, still in the waiting line (told their place) when the run ended; the rest
        # had not been answered yet (the kernel's accept queue, or the server's handshake).
        "metrics_failures": metrics_failures,
        "in_line_at_end": sum(part["queued"] - part["queued_joined"] for part in parts),
        "unanswered_at_end": listeners
        - len(joins)
        - sum(
            part["queued"] - part["queued_joined"] + part["errors"] + part["closed_early"]
            for part in parts
        )
        - sum(part["refused"] for part in parts),
        "admission_rate": len(joins) / max(1e-9, max(welcomed, default=start) - start),
        "last_welcome_s": max(welcomed, default=start) - start,
        "join_p50_ms": percentile(joins, 0.5) * 1000,
        "join_p99_ms": percentile(joins, 0.99) * 1000,
        # Where joins wait: the TCP connection (accept backlog), the WebSocket upgrade (the
        # server's handshake work), then the welcome (the waiting line).
        "connect_p99_ms": percentile([t for p in parts for t in p["connected"]], 0.99) * 1000,
        "upgrade_p99_ms": percentile([t for p in parts for t in p["upgraded"]], 0.99) * 1000,
        "sampled_listeners": sum(part["sampled"] for part in parts),
        "frames_sampled": frames,
        "delay_p50_ms": percentile([d for _, d in delays], 0.5) * 1000,
        "delay_p99_ms": percentile([d for _, d in delays], 0.99) * 1000,
        "delay_max_ms": max((d for _, d in delays), default=float("nan")) * 1000,
        "delay_p99_joining_ms": percentile(during, 0.99) * 1000,
        # The host speaks to the first server; the others hear it through Redis.
        "delay_p99_by_server_ms": [percentile(by_server[port], 0.99) * 1000 for port in ports],
        # Server side (histogram buckets, so an upper bound): from the speaker's process to
        # the write to each group of listeners; and, in the other processes, to the arrival
        # through Redis.
        "server_delay_p99_bucket_ms": [
            histogram_p99(h, "parvis_live_frame_delay_seconds") for h in histograms
        ],
        "bus_delay_p99_bucket_ms": [
            histogram_p99(h, "parvis_live_bus_delay_seconds") for h in histograms
        ],
        "flush_lateness_p99_bucket_ms": [
            histogram_p99(h, "parvis_live_flush_lateness_seconds") for h in histograms
        ],
        "delay_p99_after_ms": percentile(after, 0.99) * 1000,
        "delay_p99_by_second_ms": {
            second: round(percentile(values, 0.99) * 1000)
            for second, values in sorted(per_second.items())
        },
        "dropped_sampled": gaps,
        "dropped_share": gaps / max(1, frames + gaps),
        "server_frames_relayed": counters["parvis_live_frames_relayed_total"],
        "server_frames_dropped": counters["parvis_live_dropped_frames_total"],
        "server_admitted": counters["parvis_live_admitted_total"],
        "server_cpu_percent": [round(100 * c / elapsed, 1) for c in cpu],
        "server_cpu_joining_percent": [round(100 * c / args.join_seconds, 1) for c in cpu_joining],
        "server_cpu_after_percent": [
            round(100 * c / max(1e-9, elapsed - args.join_seconds), 1) for c in cpu_after
        ],
        "server_peak_rss_mb": [round(r / 2**20, 1) for r in peak_rss],
        "client_cpu_percent": round(100 * sum(p["cpu_seconds"] for p in parts) / elapsed, 1),
        "client_cpu_each_percent": [round(100 * p["cpu_seconds"] / elapsed, 1) for p in parts],
        "host_cpu_percent": round(100 * host_cpu / elapsed, 1),
        "machine_busy_percent": round(100 * busy / elapsed, 1),
        "redis_cpu_percent": round(100 * redis_used / elapsed, 1),
        # Everything else: the kernel's own threads, and other people's work.
        "other_cpu_percent": round(
            100
            * (busy - sum(cpu) - host_cpu - redis_used - sum(p["cpu_seconds"] for p in parts))
            / elapsed,
            1,
        ),
        "other_cpu_before_percent": None if quiet is None else round(quiet, 1),
        "bytes_received": sum(part["bytes"] for part in parts),
        "seconds": round(elapsed, 1),
        "started_at": start,
        "load_before": load_before,
        "load_after": loadavg(),
    }


# --- Summary and report ---------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure per key: the median over runs (lists element-wise); the rest from run 1."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if (
            isinstance(value, bool)
            or key in ("processes", "listeners", "started_at", "delay_p99_by_second_ms")
            or key.startswith("load_")
        ):
            continue
        if isinstance(value, int | float):
            merged[key] = statistics.median(run[key] for run in runs)
        elif isinstance(value, list) and all(
            isinstance(run[key], list) and all(isinstance(x, int | float) for x in run[key])
            for run in runs
        ):
            merged[key] = [
                statistics.median(run[key][i] for run in runs) for i in range(len(value))
            ]
    merged["runs"] = len(runs)
    merged["runs_delay_p99_ms"] = [round(run["delay_p99_ms"], 1) for run in runs]
    merged["runs_join_p99_ms"] = [round(run["join_p99_ms"]) for run in runs]
    merged["runs_load"] = [f"{run['load_before']}→{run['load_after']}" for run in runs]
    return merged


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """The Markdown report."""
    lines = [
        "# Live room benchmark (`bench/live.py`)",
        "",
        f"WebSocket listeners join one room evenly over {args.join_seconds:g} s, then listen "
        f"{args.listen_seconds:g} s more; the host sends {args.fps} frames/s throughout. "
        "Servers are `parvis serve` with default settings except the live per-address rate "
        "limit (the storm comes from a handful of loopback addresses). "
        f"{args.clients} client processes (127.0.0.3-{2 + args.clients}"
        + (f", nice {args.client_nice}" if args.client_nice else "")
        + ") hold the bulk listeners: raw sockets that read everything they are sent every "
        f"{args.drain_ms:g} ms; 1 listener in {args.sample} joins from a probe process "
        "(127.0.0.2) that reads at once and measures each frame's delay from the host's send "
        "to arrival (same clock). Servers, host, clients and Redis share the machine's 2 "
        "cores with other people's work (measured, last row but one). Each column is the "
        f"median of {args.repeat} run(s), each started once other work used under "
        f"{args.quiet_below:g} % of a core; load averages are per run (1-minute, "
        "before→after).",
        "",
        *(
            [
                f"Code *as found*: the `parvis` package in `{args.baseline}`"
                + (f" ({args.baseline_label})" if args.baseline_label else "")
                + "; *now*: this checkout. Their runs alternate, each code going first in turn.",
                "",
            ]
            if args.baseline
            else []
        ),
        "| | "
        + " | ".join(
            f"{r['listeners']:,} listeners, {r['processes']} process"
            + ("es + Redis" if r["processes"] > 1 else "")
            + (", one process's write budget shared" if r["shared_budget"] else "")
            + (f" — code {r['code']}" if args.baseline else "")
            for r in results
        )
        + " |",
        "| --- | " + " | ".join("---" for _ in results) + " |",
    ]

    def admitted(r: dict[str, Any]) -> str:
        text = f"{r['joined']:.0f} / {r['refused']:.0f}"
        extra = [
            f"{r[key]:.0f} {label}"
            for key, label in (
                ("connect_errors", "connect errors"),
                ("closed_early", "closed before welcome"),
                ("in_line_at_end", "in the waiting line when the run ended"),
                ("unanswered_at_end", "not yet answered when the run ended"),
                ("closed_later", "disconnected later"),
            )
            if r[key]
        ]
        return text + (f" ({', '.join(extra)})" if extra else "")

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("listeners admitted / refused", admitted),
        ("listeners told to wait in line", lambda r: f"{r['queued']:.0f}"),
        (
            "admission rate (joins/s, storm start to last welcome)",
            lambda r: f"{r['admission_rate']:.0f} (last welcome at {r['last_welcome_s']:.1f} s)",
        ),
        ("join time p50 / p99 (ms)", lambda r: f"{r['join_p50_ms']:.0f} / {r['join_p99_ms']:.0f}"),
        (
            "p99 to TCP connection / to the WebSocket upgrade (ms)",
            lambda r: f"{r['connect_p99_ms']:.0f} / {r['upgrade_p99_ms']:.0f}",
        ),
        (
            "frame delay p50 / p99 (ms)",
            lambda r: f"{r['delay_p50_ms']:.1f} / **{r['delay_p99_ms']:.1f}**",
        ),
        (
            "frame delay p99 while joining / after (ms)",
            lambda r: f"{r['delay_p99_joining_ms']:.1f} / {r['delay_p99_after_ms']:.1f}",
        ),
        ("frame delay p99 of each run (ms)", lambda r: ", ".join(map(str, r["runs_delay_p99_ms"]))),
        (
            "frame delay p99 per server (ms; the host speaks to the first)",
            lambda r: ", ".join(f"{d:.0f}" for d in r["delay_p99_by_server_ms"]),
        ),
        (
            "server side p99 ≤ (ms): frame delay / Redis hop / flush lateness, each server",
            lambda r: " / ".join(
                ", ".join("–" if v is None else f"{v:.0f}" for v in r[key])
                for key in (
                    "server_delay_p99_bucket_ms",
                    "bus_delay_p99_bucket_ms",
                    "flush_lateness_p99_bucket_ms",
                )
            ),
        ),
        (
            "frames dropped, sampled listeners",
            lambda r: (
                f"{r['dropped_sampled']:.0f} of {r['frames_sampled'] + r['dropped_sampled']:.0f}"
                f" ({100 * r['dropped_share']:.2f} %)"
            ),
        ),
        (
            "frames relayed / dropped, all listeners (server counters)",
            lambda r: f"{r['server_frames_relayed']:,.0f} / {r['server_frames_dropped']:,.0f}",
        ),
        (
            "server CPU, whole run / while joining / after (% of one core, each process)",
            lambda r: " / ".join(
                ", ".join(f"{c:.0f}" for c in r[key])
                for key in (
                    "server_cpu_percent",
                    "server_cpu_joining_percent",
                    "server_cpu_after_percent",
                )
            ),
        ),
        (
            "server peak memory (MB, each)",
            lambda r: ", ".join(f"{m:.0f}" for m in r["server_peak_rss_mb"]),
        ),
        (
            "load generator CPU: listeners + host (% of one core)",
            lambda r: f"{r['client_cpu_percent']:.0f} + {r['host_cpu_percent']:.0f}",
        ),
        ("Redis CPU (% of one core)", lambda r: f"{r['redis_cpu_percent']:.0f}"),
        (
            "machine busy / of which other people's work (% of one core; 200 = both cores)",
            lambda r: f"{r['machine_busy_percent']:.0f} / {r['other_cpu_percent']:.0f}",
        ),
        ("load average per run", lambda r: ", ".join(r["runs_load"])),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")
    lines += [
        "",
        "Target: p99 frame delay under 150 ms with 10,000 listeners, nobody refused.",
        "",
        f"Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    if args.env:
        lines += [f"Server settings changed for this report: `{' '.join(args.env)}`.", ""]
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run every configuration `--repeat` times, write the report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument("--join-seconds", type=float, default=10.0)
    parser.add_argument("--listen-seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=50)
    parser.add_argument("--clients", type=int, default=3, help="bulk client processes")
    parser.add_argument("--sample", type=int, default=50, help="one probe listener in N")
    parser.add_argument("--drain-ms", type=float, default=500.0, help="bulk read interval")
    parser.add_argument("--client-nice", type=int, default=0, help="niceness of bulk clients")
    parser.add_argument(
        "--processes",
        default="1,2/shared",
        help="configurations: server processes each, comma-separated; N/shared: the N "
        "processes share one process's write budget (live_max_writes_per_second / N)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=value for the servers (repeatable)"
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=30.0,
        help="before each run, wait until other work uses less than this %% of a core (0: no)",
    )
    parser.add_argument("--quiet-wait", type=float, default=180.0, help="longest such wait (s)")
    parser.add_argument(
        "--baseline",
        help="a directory holding another version's `parvis` package (e.g. `git archive "
        "<rev> parvis | tar -x -C DIR`): each configuration is also run on it, runs "
        "alternating, and reported side by side",
    )
    parser.add_argument("--baseline-label", default="", help="what the baseline is (report)")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)  # internal: set-up step
    parser.add_argument("--no-report", action="store_true", help="print only")
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(Path(args.prepare))))
        return
    hard = raise_fd_limit()
    if hard < args.listeners // args.clients + 1000:
        raise SystemExit(f"open-files hard limit {hard} is too low for this many listeners")
    results = []
    codes = [ROOT] + ([Path(args.baseline).resolve()] if args.baseline else [])
    for config in args.processes.split(","):
        processes, _, variant = config.partition("/")
        runs: dict[Path, list[dict[str, Any]]] = {code: [] for code in codes}
        for number in range(args.repeat):
            # Alternate which code goes first, so that neither always gets the quieter minute.
            for code in codes if number % 2 == 0 else list(reversed(codes)):
                result = run(int(processes), variant == "shared", args.listeners, args, code)
                print(json.dumps(result), flush=True)
                runs[code].append(result)
                time.sleep(2)
        results += [median_of(runs[code]) for code in reversed(codes)]
    text = report(results, args)
    if not args.no_report:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
