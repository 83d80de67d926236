"""The waiting line: first come first served, at the configured rate, nobody refused."""

from __future__ import annotations

import asyncio
import time

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
