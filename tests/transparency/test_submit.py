"""The submitter against a local stub of the Transparency Database API (uvicorn on 127.0.0.1):
batches accepted and recorded, retries on 429/5xx, and no statement ever sent twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from parvis.cli import app
from parvis.moderation.models import Action, Decision
from parvis.storage.base import utcnow
from parvis.transparency.models import DsaSubmission
from parvis.transparency.period import Period
from parvis.transparency.submit import SubmissionError, TransparencyClient, submit
from tests.servers import serve
from tests.transparency.conftest import World
from tests.transparency.stub_tdb import TOKEN, StubState, create_stub

runner = CliRunner()


@pytest.fixture
def stub() -> Iterator[tuple[str, StubState]]:
    """The stub API served on a free loopback port."""
    state = StubState()
    for base in serve(create_stub(state), lifespan="auto"):
        yield base, state


@pytest.fixture
def client(stub: tuple[str, StubState]) -> Iterator[TransparencyClient]:
    """A client with a fast backoff whose waits are recorded instead of slept."""
    made = TransparencyClient(stub[0], TOKEN, max_attempts=4, backoff_seconds=0.01)
    waits: list[float] = []
    made.sleep = waits.append
    yield made
    made.close()


def _today() -> Period:
    today = utcnow().date()
    return Period(today, today)


def _decisions(world: World, count: int) -> list[str]:
    return [
        world.decide(world.post(world.alice, f"post {n}"), "hacked-materials", Action.LABEL).puid
        for n in range(count)
    ]


def _recorded(world: World) -> dict[str, str]:
    with world.runtime.db.session() as session:
        return {row.puid: row.state for row in session.scalars(select(DsaSubmission))}


def test_batches_are_accepted_and_recorded(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    puids = _decisions(world, 5)
    result = submit(world.runtime.db, client, _today(), batch_size=2)
    assert result.accepted == puids
    assert stub[1].posts == 3  # 2 + 2 + 1
    assert set(stub[1].stored) == set(puids)
    assert _recorded(world) == dict.fromkeys(puids, "accepted")
    with world.runtime.db.session() as session:
        first = session.scalars(select(DsaSubmission)).first()
        assert first is not None
        assert first.permalink.startswith("https://stub.example/statement/")
        assert first.remote_uuid


def test_429_and_5xx_are_retried_with_backoff(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    puids = _decisions(world, 2)
    stub[1].failures = [429, 500, 503]
    result = submit(world.runtime.db, client, _today())
    assert result.accepted == puids
    assert client.attempts == 4
    assert stub[1].posted_puids == puids  # the failed attempts never reached validation
    waits = getattr(client.sleep, "__self__", None)
    assert waits is not None
    assert waits[0] == 0.0  # the 429 said Retry-After: 0
    assert 0 < waits[1] < waits[2] <= 0.1  # then exponential backoff


def test_nothing_is_sent_twice(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    first = _decisions(world, 3)
    submit(world.runtime.db, client, _today())
    again = submit(world.runtime.db, client, _today())
    assert again.accepted == []
    assert again.skipped == 3
    assert stub[1].posts == 1
    later = _decisions(world, 1)
    third = submit(world.runtime.db, client, _today())
    assert third.accepted == later
    assert stub[1].posted_puids == first + later  # each puid sent exactly once


def test_giving_up_releases_the_batch_for_a_later_run(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    puids = _decisions(world, 2)
    stub[1].failures = [500] * 10
    with pytest.raises(SubmissionError, match="answered 500"):
        submit(world.runtime.db, client, _today())
    assert client.attempts == 4
    assert _recorded(world) == {}
    stub[1].failures = []
    assert submit(world.runtime.db, client, _today()).accepted == puids


def test_a_lost_answer_is_checked_by_puid_not_resent(
    world: World, stub: tuple[str, StubState]
) -> None:
    puids = _decisions(world, 2)
    impatient = TransparencyClient(stub[0], TOKEN, max_attempts=3, timeout_seconds=0.3)
    stub[1].delay_after_store = 1.0
    with pytest.raises(SubmissionError, match="checked on the next run"):
        submit(world.runtime.db, impatient, _today())
    impatient.close()
    assert _recorded(world) == dict.fromkeys(puids, "sending")
    stub[1].delay_after_store = 0
    patient = TransparencyClient(stub[0], TOKEN)
    result = submit(world.runtime.db, patient, _today())
    patient.close()
    assert result.already_there == puids
    assert result.accepted == []
    assert stub[1].posted_puids == puids  # sent once, although the first answer was lost
    assert _recorded(world) == dict.fromkeys(puids, "accepted")


def test_puids_the_database_already_has_are_recorded_and_the_rest_sent(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    puids = _decisions(world, 3)
    stub[1].stored[puids[1]] = {"puid": puids[1]}  # e.g. sent by an earlier installation
    result = submit(world.runtime.db, client, _today())
    assert result.already_there == [puids[1]]
    assert result.accepted == [puids[0], puids[2]]
    assert _recorded(world) == dict.fromkeys(puids, "accepted")


def test_a_refused_token_stops_with_a_clear_error(
    world: World, stub: tuple[str, StubState]
) -> None:
    _decisions(world, 1)
    wrong = TransparencyClient(stub[0], "1|wrong")
    with pytest.raises(SubmissionError, match="refused the token"):
        submit(world.runtime.db, wrong, _today())
    wrong.close()
    assert _recorded(world) == {}


def test_submit_command_uses_the_settings(
    world: World,
    stub: tuple[str, StubState],
    cli_env: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    puids = _decisions(world, 2)
    cli_env()
    result = runner.invoke(app, ["reasons", "submit"])
    assert result.exit_code == 1
    assert "error: Set dsa_api_url" in result.output
    monkeypatch.setenv("PARVIS_DSA_API_URL", stub[0])
    monkeypatch.setenv("PARVIS_DSA_API_TOKEN", TOKEN)
    monkeypatch.setenv("PARVIS_DSA_API_BACKOFF_SECONDS", "0")
    stub[1].failures = [429]
    result = runner.invoke(app, ["reasons", "submit"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] == 2
    assert set(stub[1].stored) == set(puids)


def test_a_statement_the_database_refuses_is_reported_and_the_rest_accepted(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    puids = _decisions(world, 3)
    stub[1].refuse = {puids[1]}
    result = submit(world.runtime.db, client, _today())
    assert result.accepted == [puids[0], puids[2]]
    assert list(result.rejected) == [puids[1]]
    assert "refused by the stub" in result.rejected[puids[1]][0]
    assert set(stub[1].stored) == {puids[0], puids[2]}
    assert _recorded(world) == {puids[0]: "accepted", puids[2]: "accepted"}
    stub[1].refuse = set()
    again = submit(world.runtime.db, client, _today())  # fixed on the database's side
    assert again.accepted == [puids[1]]
    assert sorted(stub[1].stored) == sorted(puids)
    # The refused batch stored nothing (all or nothing), so resending its other statements
    # sends nothing twice that the database holds.
    assert stub[1].posted_puids == [*puids, puids[0], puids[2], puids[1]]


def test_statements_our_validator_refuses_are_never_sent(
    world: World, stub: tuple[str, StubState], client: TransparencyClient
) -> None:
    good, bad = _decisions(world, 2)
    with world.runtime.db.session() as session:
        damaged = session.get_one(Decision, int(bad.removeprefix("parvis-decision-")))
        statement = json.loads(damaged.statement_json)
        statement["content_date"] = "1999-12-31"
        damaged.statement_json = json.dumps(statement)
    result = submit(world.runtime.db, client, _today())
    assert result.accepted == [good]
    assert [(i.puid, [p.rule for p in i.problems]) for i in result.invalid] == [
        (bad, ["date_range"])
    ]
    assert stub[1].posted_puids == [good]
