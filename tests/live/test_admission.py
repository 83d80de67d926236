"""The waiting line: first come first served, at the configured rate, nobody refused."""

from __future__ import annotations

import asyncio
import time

from parvis.live import metrics
from parvis.live.admission import WaitingLine


def test_admits_in_order_at_the_rate_and_tells_the_wait() -> None:
    async def scenario() -> tuple[list[int], float, list[float]]:
        line = WaitingLine(rate=200, burst=10, tick=0.01)
        tickets = [line.join() for _ in range(110)]
        waits = [line.expected_wait(t) for t in tickets[10:]]
        order: list[int] = []
        started = time.monotonic()

        async def wait(index: int) -> None:
            await tickets[index].admitted.wait()
            order.append(index)

        await asyncio.gather(*(wait(i) for i in reversed(range(110))))
        return order, time.monotonic() - started, waits

    order, elapsed, waits = asyncio.run(scenario())
    assert sorted(order[:10]) == list(range(10))  # the burst, at once
    assert order[10:] == list(range(10, 110))  # then strictly first come, first served
    assert 0.4 <= elapsed < 1.5  # 100 beyond the burst at 200/s: about half a second
    assert waits == sorted(waits)
    assert waits[-1] == 0.5


def test_people_who_leave_do_not_use_up_the_rate() -> None:
    async def scenario() -> int:
        line = WaitingLine(rate=100, burst=1, tick=0.01)
        line.join()
        leavers = [line.join() for _ in range(50)]
        stayer = line.join()
        for ticket in leavers:
            line.leave(ticket)
        assert line.position(stayer) == 51
        started = time.monotonic()
        await stayer.admitted.wait()
        return int((time.monotonic() - started) * 1000)

    assert asyncio.run(scenario()) < 200


def test_the_rate_follows_event_loop_lag_between_a_floor_and_the_ceiling() -> None:
    async def scenario() -> None:
        line = WaitingLine(rate=1000, burst=1, lag_limit=0.025, min_rate=50)
        line.follow_lag(0.040, now=10.0, elapsed=0.06)
        assert line.rate == 750  # late: cut by a quarter
        line.follow_lag(0.040, now=10.05, elapsed=0.06)
        assert line.rate == 750  # one cut per burst of lateness
        for step in range(40):
            line.follow_lag(0.5, now=11.0 + step, elapsed=0.5)
        assert line.rate == 50  # never below the floor
        line.follow_lag(0.005, now=60.0, elapsed=1.0)
        assert line.rate == 150  # punctual again: a tenth of the ceiling back per second
        line.follow_lag(0.020, now=61.0, elapsed=1.0)
        assert line.rate == 150  # under the limit but not comfortably: held
        for step in range(20):
            line.follow_lag(0.0, now=62.0 + step, elapsed=1.0)
        assert line.rate == 1000  # and never above the configured rate
        for _ in range(3):
            line.join()
        waiting = line.join()
        line.rate = 2
        assert line.expected_wait(waiting) == line.position(waiting) / 2  # at the rate in force

    asyncio.run(scenario())


def test_without_a_lag_limit_the_rate_stays_as_configured() -> None:
    async def scenario() -> float:
        line = WaitingLine(rate=300, burst=1)
        line.follow_lag(5.0, now=1.0, elapsed=5.0)
        return line.rate

    assert asyncio.run(scenario()) == 300


def test_a_late_loop_slows_admission_and_the_line_says_so() -> None:
    async def scenario() -> tuple[float, float]:
        line = WaitingLine(rate=1000, burst=1, tick=0.01, lag_limit=0.005, min_rate=20)
        assert metrics.ADMISSION_RATE._value.get() == 1000
        tickets = [line.join() for _ in range(30)]
        await asyncio.sleep(0)  # the line's task starts its first tick
        loop_blocked_until = time.monotonic() + 0.05
        while time.monotonic() < loop_blocked_until:  # the loop is busy elsewhere
            pass
        await asyncio.sleep(0.03)
        await tickets[-1].admitted.wait()
        assert metrics.ADMISSION_RATE._value.get() == line.rate  # exported at /metrics
        return line.rate, line.ceiling

    rate, ceiling = asyncio.run(scenario())
    assert rate < 0.9 * ceiling  # cut by a quarter, then climbing back slowly


def test_the_loop_is_watched_after_joins_only_when_the_rate_follows_it() -> None:
    async def scenario() -> tuple[bool, bool]:
        fixed = WaitingLine(rate=100, burst=5, tick=0.01)
        following = WaitingLine(rate=100, burst=5, tick=0.01, lag_limit=0.025)
        fixed.join()
        following.join()
        await asyncio.sleep(0.1)
        stopped = fixed._task is not None and fixed._task.done()
        watching = following._task is not None and not following._task.done()
        await following.close()
        return stopped, watching

    assert asyncio.run(scenario()) == (True, True)
