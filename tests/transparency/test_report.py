"""The transparency report's figures on a data set made through the real decision path, its
four formats, and `parvis report`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from parvis.accounts.models import User
from parvis.cli import app
from parvis.errors import InvalidInput
from parvis.moderation import appeals, notices
from parvis.moderation.models import Action, AppealState, NoticeState, Source, TrustedFlagger
from parvis.storage.base import utcnow
from parvis.transparency import render
from parvis.transparency.period import Period, parse_period
from parvis.transparency.report import Report, build_report
from tests.transparency.conftest import World

runner = CliRunner()


def _notice(world: World, notifier: User, post_id: int, category: str) -> int:
    with world.runtime.db.session() as session:
        return notices.submit_notice(
            session,
            world.runtime.services,
            location=f"/@alice/{post_id}",
            category=category,
            explanation="This post breaks the rules, please look at it carefully.",
            good_faith=True,
            notifier=session.get_one(User, notifier.id),
        ).id


def _resolve(world: World, notice_id: int, outcome: NoticeState, decision_id: int | None) -> None:
    with world.runtime.db.session() as session:
        from parvis.moderation.models import Decision

        notices.resolve_notice(
            session,
            world.runtime.services,
            notice_id,
            session.get_one(User, world.mod.id),
            outcome=outcome,
            explanation="Reviewed against the rulebook.",
            decision=session.get(Decision, decision_id) if decision_id else None,
        )


@pytest.fixture
def report(world: World, make_user: Callable[..., User]) -> Report:
    """A month of moderation: own-initiative and notice decisions, a trusted flagger, a
    proposal, an appeal reversed, and a notifier suspended for unfounded notices."""
    flagger = make_user("hotline")
    with world.runtime.db.session() as session:
        session.add(TrustedFlagger(name="Hotline", user_id=flagger.id))
    posts = [world.post(world.alice, f"post number {i} by alice") for i in range(6)]
    harass = world.decide(posts[0], "harassment")
    world.decide(posts[1], "doxxing", automated=True)
    noticed = _notice(world, world.bob, posts[2], "STATEMENT_CATEGORY_CYBER_VIOLENCE")
    on_notice = world.decide(posts[2], "harassment", source=Source.NOTICE, notice_id=noticed)
    _resolve(world, noticed, NoticeState.ACTIONED, on_notice.id)
    trusted = _notice(world, flagger, posts[3], "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")
    illegal = world.decide(
        posts[3],
        "illegal-hate-speech",
        source=Source.TRUSTED_FLAGGER,
        notice_id=trusted,
        scope=["FR", "DE"],
    )
    _resolve(world, trusted, NoticeState.ACTIONED, illegal.id)
    world.decide(posts[4], "harassment", Action.LABEL, propose=True)  # pending: not counted
    for _ in range(5):  # the fifth unfounded notice suspends bob's notices (notice-misuse)
        unfounded = _notice(world, world.bob, posts[5], "STATEMENT_CATEGORY_CYBER_VIOLENCE")
        _resolve(world, unfounded, NoticeState.UNFOUNDED, None)
    with world.runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, world.alice.id), harass.id, "I was quoting someone."
        )
        appeals.decide_appeal(
            session,
            appeal.id,
            session.get_one(User, world.mod2.id),
            outcome=AppealState.REVERSED,
            facts="The post quoted the insult to condemn it.",
        )
    today = utcnow().date()
    with world.runtime.db.session() as session:
        return build_report(session, Period(today - timedelta(days=29), today))


def test_decisions_are_counted_by_rule_category_ground_source_and_automation(
    report: Report,
) -> None:
    # The proposal and the reversal are not measures; alice's strikes reached the threshold.
    assert report.figure("decisions_total") == 6
    assert report.table("decisions_by_rule").column("Decisions") == {
        "harassment": 2,
        "doxxing": 1,
        "escalation": 1,
        "illegal-hate-speech": 1,
        "notice-misuse": 1,
        "Total": 6,
    }
    assert report.table("decisions_by_ground").column("Decisions") == {
        "Incompatible with the terms of service": 5,
        "Illegal content": 1,
        "Total": 6,
    }
    assert report.table("decisions_by_source").column("Decisions") == {
        "Own initiative": 4,
        "Art. 16 notice": 1,
        "Trusted flagger (Art. 22)": 1,
        "Total": 6,
    }
    assert report.table("decisions_by_detection").column("Decisions") == {
        "Yes": 3,
        "No": 3,
        "Total": 6,
    }
    assert report.table("decisions_by_automation").cell("Fully automated", "Decisions") == 3
    category = report.table("decisions_by_category").column("Decisions")
    assert category["Cyber violence"] == 2
    assert category["Data protection and privacy violations"] == 1
    restriction = report.table("decisions_by_restriction").column("Decisions")
    assert restriction["Visibility: removal"] == 4
    assert restriction["Service: partial suspension"] == 1  # notices taken away
    assert restriction["Account: suspension"] == 1
    territory = report.table("decisions_by_territory").column("Decisions")
    assert territory == {"Whole EEA (30 countries)": 5, "DE": 1, "FR": 1, "Total": 7}
    assert report.table("decisions_by_rulebook_version").cell("Version 1", "Decisions") == 6


def test_restorations_after_appeal_are_counted_apart(report: Report) -> None:
    assert report.figure("restorations_total") == 1
    assert report.figure("restorations_after_appeal") == 1


def test_notices_by_source_category_and_outcome(report: Report) -> None:
    assert report.figure("notices_received") == 7
    assert report.figure("notices_trusted") == 1
    assert report.figure("notices_actioned") == 2
    by_outcome = report.table("notices_by_outcome").column("Notices")
    assert by_outcome["Manifestly unfounded"] == 5
    assert by_outcome["Actioned"] == 2
    by_category = report.table("notices_by_category")
    assert by_category.cell("Cyber violence", "Received") == 6
    assert by_category.cell("Illegal or harmful speech", "From trusted flaggers") == 1
    assert by_category.cell("Illegal or harmful speech", "Actions on legal ground") == 1
    assert by_category.cell("Cyber violence", "Actions on terms of service") == 1
    assert report.table("notices_by_source").cell("Trusted flagger (Art. 22)", "Received") == 1
    median = report.figure("notice_median_hours_to_outcome")
    assert isinstance(median, float)
    assert 0 <= median < 1
    assert report.figure("notice_median_hours_to_decision") is not None


def test_appeals_and_misuse(report: Report) -> None:
    assert report.figure("appeals_received") == 1
    assert report.figure("appeals_decided") == 1
    assert report.figure("appeals_reversed") == 1
    assert report.figure("appeals_upheld") == 0
    assert report.figure("appeal_reversal_rate") == 100.0
    median = report.figure("appeals_median_hours")
    assert isinstance(median, float)
    assert 0 <= median < 1  # filed and decided within the test
    assert report.table("appeals_by_type").cell("Restriction of visibility", "Reversed") == 1
    assert report.figure("suspensions_unfounded_notices") == 1
    assert report.figure("suspensions_repeated_violations") == 1
    automation = report.table("automation_by_scope")
    assert automation.cell("All decisions", "Solely automated") == 3
    assert automation.cell("On trusted flaggers' notices", "Not automated") == 1
    own = report.table("own_initiative_terms")
    assert own.cell("Total", "Measures") == 4
    assert own.cell("Total", "After automated detection") == 3


def test_series_counts_every_decision_notice_and_appeal_once(report: Report) -> None:
    assert report.series.bucket == "day"
    assert len(report.series.starts) == 30
    assert sum(report.series.lines["Decisions"]) == 6
    assert sum(report.series.lines["Notices"]) == 7
    assert sum(report.series.lines["Appeals"]) == 1


def test_a_period_before_anything_happened_is_empty(world: World) -> None:
    world.decide(world.post(world.alice, "something"), "harassment")
    with world.runtime.db.session() as session:
        empty = build_report(session, Period(date(2020, 1, 1), date(2020, 12, 31)))
    assert empty.figure("decisions_total") == 0
    assert empty.series.bucket == "week"


def test_formats_carry_the_same_figures(report: Report) -> None:
    markdown = render.to_markdown(report)
    assert "| harassment | Harassment | Incompatible with the terms of service | 2 |" in markdown
    rows = list(csv.DictReader(io.StringIO(render.to_csv(report))))
    assert {
        "section": "decisions",
        "table": "decisions_by_rule",
        "row": "doxxing",
        "column": "Decisions",
        "value": "1",
    } in rows
    data = json.loads(render.to_json(report))
    decisions = next(s for s in data["sections"] if s["id"] == "decisions")
    assert decisions["figures"]["decisions_total"] == 6
    charts = render.report_charts(report)
    assert len(charts) == 5
    assert all(chart.startswith("<svg") for chart in charts)
    assert "illegal-hate-speech" in charts[1]


def test_period_parsing_refuses_bad_dates() -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_period("2026-02-30", None)
    with pytest.raises(InvalidInput, match="swap"):
        parse_period("2026-03-01", "2026-02-01")
    default = parse_period(None, None, today=date(2026, 3, 31))
    assert (default.first, default.last) == (date(2026, 3, 2), date(2026, 3, 31))


def test_report_command_prints_each_format(
    report: Report, cli_env: Callable[[], None], tmp_path: object
) -> None:
    cli_env()
    first = report.period.first.isoformat()
    result = runner.invoke(app, ["report", "--from", first, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["sections"][1]["figures"]["decisions_total"] == 6
    result = runner.invoke(app, ["report", "--from", first, "--format", "html"])
    assert result.exit_code == 0
    assert "<svg" in result.output
    assert "Transparency report" in result.output
    result = runner.invoke(app, ["report", "--from", "yesterday"])
    assert result.exit_code == 1
    assert "error: from must be a date written YYYY-MM-DD" in result.output
