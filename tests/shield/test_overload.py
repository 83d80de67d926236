"""Overload control: the lowest class is shed first and at once, members' writes before reads,
the wait is bounded, the limit moves with latency, and health stays answerable."""

from __future__ import annotations

import asyncio

from parvis.runtime import Runtime
from parvis.shield.classes import Priority
from parvis.shield.overload import MIN_SAMPLES, PERSISTENCE, AdaptiveLimit, Gate, OverloadSettings
from tests.conftest import MakeUser
from tests.shield.conftest import ClientFor, MakeApp, bearer_for, shield_of

FIXED = OverloadSettings(initial=4, minimum=4, maximum=4, low_share=0.5, queue_wait=0.2)


def _lag(gate: Gate, seconds: float) -> None:
    gate.probe.recent.extend([seconds] * PERSISTENCE)


def test_low_priority_is_shed_at_once_beyond_its_share() -> None:
    async def scenario() -> list[bool]:
        gate = Gate(FIXED)
        results = [await gate.acquire(Priority.LOW), await gate.acquire(Priority.LOW)]
        results.append(await gate.acquire(Priority.LOW))  # share is 2 of 4: refused
        results.append(await gate.acquire(Priority.HIGH))  # members still get in
        results.append(await gate.acquire(Priority.CRITICAL))
        return results

    assert asyncio.run(scenario()) == [True, True, False, True, True]


def test_writes_are_served_before_reads_and_low_never_waits() -> None:
    async def scenario() -> list[str]:
        gate = Gate(FIXED)
        for _ in range(4):
            assert await gate.acquire(Priority.CRITICAL)
        order: list[str] = []

        async def want(priority: Priority, name: str) -> None:
            if await gate.acquire(priority):
                order.append(name)
            else:
                order.append(f"{name} shed")

        read = asyncio.create_task(want(Priority.HIGH, "read"))
        await asyncio.sleep(0)
        write = asyncio.create_task(want(Priority.CRITICAL, "write"))
        await asyncio.sleep(0)
        await want(Priority.LOW, "anonymous")  # refused at once, never queued
        gate.release(0.01)  # one slot frees: the write (queued later) goes first
        await asyncio.sleep(0)
        gate.release(0.01)
        await asyncio.gather(read, write)
        return order

    assert asyncio.run(scenario()) == ["anonymous shed", "write", "read"]


def test_the_wait_is_bounded() -> None:
    async def scenario() -> tuple[bool, float]:
        gate = Gate(FIXED)
        for _ in range(4):
            await gate.acquire(Priority.CRITICAL)
        loop = asyncio.get_running_loop()
        started = loop.time()
        admitted = await gate.acquire(Priority.CRITICAL)
        return admitted, loop.time() - started

    admitted, waited = asyncio.run(scenario())
    assert not admitted
    assert 0.15 < waited < 1.0


def test_a_lagging_loop_sheds_anonymous_work_then_members_reads_but_not_writes() -> None:
    async def scenario() -> list[bool]:
        gate = Gate(OverloadSettings(lag_target=0.04))
        _lag(gate, 0.05)
        moderate = [gate.admit_now(Priority.LOW), gate.admit_now(Priority.HIGH)]
        _lag(gate, 0.5)
        severe = [gate.admit_now(Priority.HIGH), gate.admit_now(Priority.CRITICAL)]
        return moderate + severe

    assert asyncio.run(scenario()) == [False, True, False, True]


def test_one_late_wake_up_is_not_congestion() -> None:
    gate = Gate(OverloadSettings(lag_target=0.04))
    gate.probe.recent.extend([0.0, 0.0, 0.9])
    assert not gate.lagging


def test_aimd_cuts_on_slow_responses_and_grows_when_used() -> None:
    limit = AdaptiveLimit(OverloadSettings(initial=20, minimum=4, maximum=40, latency_target=0.1))

    def window(latency: float, inflight: int) -> float:
        limit._window_start -= 1  # as if half a second had passed
        for _ in range(MIN_SAMPLES):
            limit.record(latency, inflight=inflight, lagging=False)
        return limit.value

    assert window(0.5, 20) == 18  # 20 * 0.9
    assert window(0.01, 18) == 19  # + 1
    assert window(0.01, 2) == 19  # barely used: no growth
    for _ in range(30):
        window(0.5, 19)
    assert limit.value == 4  # never under the minimum


def test_overloaded_app_sheds_anonymous_pages_keeps_members_and_health(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app()
    client = client_for(app)
    ana = bearer_for(runtime, make_user, "ana")
    gate = shield_of(app).gate
    gate.probe.persistent = lambda: 0.1  # type: ignore[method-assign] # a loop 100 ms late
    shed = client.get("/api/v1/timelines/public")
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "2"
    assert "busy" in shed.json()["error"]
    page = client.get("/public", headers={"accept": "text/html"})
    assert page.status_code == 503
    assert "Busy right now" in page.text
    assert client.get("/api/v1/timelines/home", headers=ana).status_code == 200
    assert client.post("/api/v1/statuses", data={"status": "hi"}, headers=ana).status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}
