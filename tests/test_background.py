"""The server's background loops: a failed round is logged and the loop goes on, a busy round
is followed at once by the next, and stopping waits for the round under way."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from parvis.background import Background


def test_a_failed_round_does_not_end_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    rounds: list[int] = []

    def work() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("the database went away for a moment")

    async def run() -> None:
        loops = Background()
        loops.start("flaky", work, 0.01)
        while len(rounds) < 3:
            await asyncio.sleep(0.01)
        await loops.stop()

    asyncio.run(run())
    assert "flaky: a round failed" in caplog.text


def test_a_busy_round_is_followed_at_once_and_stop_waits_for_the_round_under_way() -> None:
    queue = [3, 2, 1, 0]
    finished = threading.Event()
    seen: list[int] = []

    def drain() -> int:
        left = queue.pop(0) if queue else 0
        seen.append(left)
        if left == 0:
            time.sleep(0.2)  # the round under way when the loop is asked to stop
            finished.set()
        return left

    async def run() -> float:
        loops = Background()
        loops.start("drain", drain, 60.0)  # a long interval: only busy rounds follow at once
        started = time.monotonic()
        while 0 not in seen:
            await asyncio.sleep(0.005)
        await loops.stop()
        return time.monotonic() - started

    took = asyncio.run(run())
    assert seen[:4] == [3, 2, 1, 0]
    assert finished.is_set()  # stop() returned only after the running round ended
    assert took < 5


def test_coroutine_rounds_run_on_the_event_loop() -> None:
    threads: list[str] = []

    async def check() -> bool:
        threads.append(threading.current_thread().name)
        return False

    async def run() -> None:
        loops = Background()
        loops.start("async", check, 0.01)
        while not threads:
            await asyncio.sleep(0.005)
        await loops.stop()

    asyncio.run(run())
    assert threads[0] == threading.main_thread().name


def test_a_woken_loop_runs_its_next_round_before_its_interval_is_up() -> None:
    rounds: list[float] = []

    def work() -> bool:
        rounds.append(time.monotonic())
        return False

    async def run() -> None:
        loops = Background()
        loops.start("idle", work, 60.0)  # without waking, the second round is a minute away
        while not rounds:
            await asyncio.sleep(0.005)
        # Woken from another thread, as a request's commit does.
        threading.Thread(target=loops.wake, args=("idle",)).start()
        deadline = time.monotonic() + 5
        while len(rounds) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await loops.stop()
        loops.wake("idle")  # after stop: ignored, no error

    asyncio.run(run())
    assert len(rounds) == 2
    assert rounds[1] - rounds[0] < 5
