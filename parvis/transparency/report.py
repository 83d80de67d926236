"""The transparency report for a period: decisions, notices, appeals, misuse and automation.

Counts follow the harmonised templates of Implementing Regulation (EU) 2024/2835 where they
apply to a platform like this one (sections 1, 4, 5-6, 7 and 8; see
shared/reference/dsa-statement-of-reasons.md), so an operator can fill the Article 15/24 report
from it. Every figure is computed from the decision, notice and appeal tables, never kept
separately, so the report cannot disagree with the log.

What counts as a decision here: a restricting decision (label up to termination) that took
effect in the period. Proposals not (yet) confirmed and declined proposals are not decisions;
decisions taken *on appeal* are counted under appeals, not again as measures; restorations
(expiry, reversal) are counted on their own line.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.moderation import dsa, publication
from parvis.moderation.models import (
    Appeal,
    AppealState,
    Decision,
    DecisionState,
    Notice,
    NoticeState,
    RulebookVersion,
)
from parvis.moderation.notices import MISUSE_RULE
from parvis.moderation.reasons import is_restriction
from parvis.moderation.rulebook import Rule
from parvis.storage.base import utcnow
from parvis.transparency import labels
from parvis.transparency.period import Period

Cell = str | int | float | None
NOT_COUNTED = (DecisionState.PROPOSED.value, DecisionState.DECLINED.value)
ESCALATION_RULE = "escalation"


@dataclass
class Table:
    """One table of the report: a header row and labelled rows of figures."""

    id: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""

    def cell(self, row: str, column: str) -> Cell:
        """The figure at a row (by its label, the first cell) and column (by its header)."""
        index = self.columns.index(column)
        for values in self.rows:
            if values[0] == row:
                return values[index]
        raise KeyError(row)

    def column(self, column: str) -> dict[str, Cell]:
        """A column as {row label: figure}."""
        index = self.columns.index(column)
        return {str(values[0]): values[index] for values in self.rows}


@dataclass
class Section:
    """A part of the report, named after the template section it fills."""

    id: str
    title: str
    reference: str
    figures: list[tuple[str, str, Cell]] = field(default_factory=list)  # (id, label, value)
    tables: list[Table] = field(default_factory=list)
    note: str = ""


@dataclass
class Series:
    """Counts per time bucket, for the charts over time."""

    bucket: str
    starts: list[date]
    lines: dict[str, list[int]]


@dataclass
class Report:
    """A whole report: identification, sections and series."""

    instance: str
    period: Period
    generated_at: datetime
    sections: list[Section]
    series: Series

    def section(self, section_id: str) -> Section:
        """A section by id."""
        return next(s for s in self.sections if s.id == section_id)

    def table(self, table_id: str) -> Table:
        """A table by id, wherever it is."""
        return next(t for s in self.sections for t in s.tables if t.id == table_id)

    def figure(self, figure_id: str) -> Cell:
        """A headline figure by id, wherever it is."""
        for section in self.sections:
            for key, _label, value in section.figures:
                if key == figure_id:
                    return value
        raise KeyError(figure_id)


@dataclass(frozen=True)
class _Facts:
    """What the report needs of one decision, read once from its row and statement."""

    decision: Decision
    statement: dict[str, Any]
    rule: Rule | None

    @property
    def ground(self) -> str:
        code = self.statement.get("decision_ground")
        if code == dsa.GROUND_ILLEGAL:
            return "illegal"
        if code == dsa.GROUND_INCOMPATIBLE:
            return "terms"
        return self.rule.ground if self.rule else "terms"

    @property
    def category(self) -> str:
        return str(
            self.statement.get("category")
            or (self.rule.category if self.rule else "STATEMENT_CATEGORY_OTHER_VIOLATION_TC")
        )

    @property
    def restrictions(self) -> list[str]:
        codes = list(self.statement.get("decision_visibility") or [])
        for name in ("decision_provision", "decision_account", "decision_monetary"):
            if self.statement.get(name):
                codes.append(str(self.statement[name]))
        return codes

    @property
    def restriction_kinds(self) -> set[str]:
        return {kind for name, kind in labels.RESTRICTION_KINDS.items() if self.statement.get(name)}


def _median_hours(spans: Iterable[float]) -> float | None:
    values = list(spans)
    return round(statistics.median(values) / 3600, 1) if values else None


def _hours_between(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if end is not None else None


def _rules_by_version(session: Session) -> tuple[dict[tuple[int, str], Rule], list[Any]]:
    rules: dict[tuple[int, str], Rule] = {}
    versions = list(session.scalars(select(RulebookVersion).order_by(RulebookVersion.version)))
    for row in versions:
        for rule in publication.parsed(row).rules:
            rules[(row.version, rule.id)] = rule
    return rules, versions


def _counter_table(
    table_id: str, title: str, head: str, counts: Counter[str], names: dict[str, str] | None = None
) -> Table:
    rows: list[list[Cell]] = [
        [(names or {}).get(key, key), count] for key, count in counts.most_common()
    ]
    rows.append(["Total", sum(counts.values())])
    return Table(table_id, title, [head, "Decisions"], rows)


def build_report(session: Session, period: Period, instance: str = "Parvis") -> Report:
    """Compute every figure of the report for `period` (read-only)."""
    rules, versions = _rules_by_version(session)
    appeals = list(session.scalars(select(Appeal)))
    appeal_outcomes = {a.outcome_decision_id for a in appeals if a.outcome_decision_id}
    rows = session.scalars(
        select(Decision)
        .where(
            Decision.starts_at >= period.start,
            Decision.starts_at < period.end,
            Decision.state.not_in(NOT_COUNTED),
        )
        .order_by(Decision.id)
    ).all()
    facts = [
        _Facts(
            row,
            json.loads(row.statement_json or "{}"),
            rules.get((row.rulebook_version, row.rule_id)),
        )
        for row in rows
    ]
    measures = [
        f
        for f in facts
        if is_restriction(f.decision.action) and f.decision.id not in appeal_outcomes
    ]
    restorations = [f for f in facts if not is_restriction(f.decision.action)]
    notices = list(
        session.scalars(
            select(Notice)
            .where(Notice.created_at >= period.start, Notice.created_at < period.end)
            .order_by(Notice.id)
        )
    )
    notice_decisions = {
        d.id: d
        for d in session.scalars(
            select(Decision).where(
                Decision.id.in_([n.decision_id for n in notices if n.decision_id])
            )
        )
    }
    sections = [
        _identification(period, instance, versions),
        _decisions(measures, restorations, appeal_outcomes, rules, versions),
        _notices(notices, notice_decisions),
        _own_initiative(measures),
        _appeals(session, period, appeals),
        _misuse(measures),
        _automation(measures),
    ]
    return Report(instance, period, utcnow(), sections, _series(period, measures, notices, appeals))


def _identification(period: Period, instance: str, versions: list[Any]) -> Section:
    in_force = [
        v.version for v in versions if v.published_at < period.end
    ]  # versions published before the period ended
    return Section(
        "identification",
        "Report identification",
        "Template section 1",
        figures=[
            ("service", "Service", instance),
            ("period_start", "Reporting period start", period.first.isoformat()),
            ("period_end", "Reporting period end", period.last.isoformat()),
            (
                "rulebook_versions",
                "Rulebook versions published by the end of the period",
                ", ".join(map(str, in_force)) or "none",
            ),
        ],
    )


def _decisions(
    measures: list[_Facts],
    restorations: list[_Facts],
    appeal_outcomes: set[int],
    rules: dict[tuple[int, str], Rule],
    versions: list[Any],
) -> Section:
    by_rule: dict[str, list[_Facts]] = {}
    for f in measures:
        by_rule.setdefault(f.decision.rule_id, []).append(f)
    rule_rows: list[list[Cell]] = []
    for rule_id, group in sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0])):
        rule = group[-1].rule
        rule_rows.append(
            [
                rule_id,
                rule.title if rule else "",
                labels.GROUNDS.get(group[-1].ground, group[-1].ground),
                len(group),
                sum(f.decision.automated_detection for f in group),
                sum(f.decision.automated_decision == "fully" for f in group),
            ]
        )
    rule_rows.append(
        [
            "Total",
            "",
            "",
            len(measures),
            sum(f.decision.automated_detection for f in measures),
            sum(f.decision.automated_decision == "fully" for f in measures),
        ]
    )
    restriction_counts: Counter[str] = Counter(code for f in measures for code in f.restrictions)
    territory: Counter[str] = Counter()
    for f in measures:
        scope = set(f.decision.territorial_scope.split())
        if scope == set(dsa.EEA_COUNTRIES):
            territory["Whole EEA (30 countries)"] += 1
        elif scope == set(dsa.EU_COUNTRIES):
            territory["Whole EU (27 countries)"] += 1
        else:
            territory.update(sorted(scope))
    published = {v.version: v for v in versions}
    version_rows: list[list[Cell]] = []
    for version, count in sorted(Counter(f.decision.rulebook_version for f in measures).items()):
        row = published.get(version)
        version_rows.append(
            [f"Version {version}", row.published_at.date().isoformat() if row else "", count]
        )
    version_rows.append(["Total", "", len(measures)])
    after_appeal = sum(f.decision.id in appeal_outcomes for f in restorations)
    on_expiry = sum(f.decision.facts.endswith("reached its end date.") for f in restorations)
    restriction_table = _counter_table(
        "decisions_by_restriction",
        "Decisions by type of restriction (as in the statements of reasons)",
        "Restriction",
        restriction_counts,
        labels.RESTRICTIONS,
    )
    restriction_table.rows[-1][1] = len(measures)
    restriction_table.note = "A decision may impose more than one type of restriction."
    return Section(
        "decisions",
        "Moderation decisions",
        "DSA Art. 15(1)(c), 17, 24(1); template sections 5-6",
        figures=[
            ("decisions_total", "Restricting decisions taken", len(measures)),
            ("restorations_total", "Restrictions lifted (restore decisions)", len(restorations)),
            ("restorations_after_appeal", "of which after an appeal", after_appeal),
            ("restorations_on_expiry", "of which at the end of a temporary restriction", on_expiry),
        ],
        tables=[
            Table(
                "decisions_by_rule",
                "Decisions by rule",
                ["Rule", "Title", "Ground", "Decisions", "Automated detection", "Fully automated"],
                rule_rows,
            ),
            _counter_table(
                "decisions_by_category",
                "Decisions by DSA category",
                "Category",
                Counter(f.category for f in measures),
                labels.CATEGORIES,
            ),
            restriction_table,
            _counter_table(
                "decisions_by_action",
                "Decisions by Parvis action",
                "Action",
                Counter(f.decision.action.replace("_", " ") for f in measures),
            ),
            _counter_table(
                "decisions_by_ground",
                "Decisions by ground",
                "Ground",
                Counter(f.ground for f in measures),
                labels.GROUNDS,
            ),
            _counter_table(
                "decisions_by_source",
                "Decisions by source",
                "Source",
                Counter(f.decision.source for f in measures),
                labels.SOURCES,
            ),
            _counter_table(
                "decisions_by_detection",
                "Decisions by automated detection",
                "Detected by automated means",
                Counter("Yes" if f.decision.automated_detection else "No" for f in measures),
            ),
            _counter_table(
                "decisions_by_automation",
                "Decisions by automated decision-making",
                "Decision",
                Counter(f.decision.automated_decision for f in measures),
                labels.AUTOMATION,
            ),
            _counter_table(
                "decisions_by_territory", "Decisions by territorial scope", "Territory", territory
            ),
            Table(
                "decisions_by_rulebook_version",
                "Decisions by rulebook version",
                ["Rulebook version", "Published", "Decisions"],
                version_rows,
            ),
        ],
    )


def _notices(notices: list[Notice], decisions: dict[int, Decision]) -> Section:
    def ground_of(notice: Notice) -> str | None:
        decision = decisions.get(notice.decision_id or 0)
        if decision is None or not decision.statement_json:
            return None
        code = json.loads(decision.statement_json).get("decision_ground")
        return "illegal" if code == dsa.GROUND_ILLEGAL else "terms"

    def spans(group: Iterable[Notice]) -> list[float]:
        return [
            span
            for n in group
            if n.state != NoticeState.RECEIVED.value
            and (span := _hours_between(n.created_at, n.resolved_at)) is not None
        ]

    trusted = [n for n in notices if n.trusted_flagger_id is not None]
    untrusted = [n for n in notices if n.trusted_flagger_id is None]
    rows: list[list[Cell]] = []
    by_category: dict[str, list[Notice]] = {}
    for notice in notices:
        by_category.setdefault(notice.category, []).append(notice)
    ordered = sorted(by_category.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for code, group in [*ordered, ("Total", notices)]:
        tf = [n for n in group if n.trusted_flagger_id is not None]
        rows.append(
            [
                labels.category(code) if code != "Total" else "Total",
                len(group),
                len(tf),
                sum(n.state == NoticeState.ACTIONED.value for n in group),
                sum(ground_of(n) == "illegal" for n in group),
                sum(ground_of(n) == "terms" for n in group),
                _median_hours(spans(group)),
                _median_hours(spans(tf)),
            ]
        )
    outcomes = Counter(n.state for n in notices)
    outcome_rows: list[list[Cell]] = [
        [labels.NOTICE_OUTCOMES[state], outcomes.get(state, 0)] for state in labels.NOTICE_OUTCOMES
    ]
    outcome_rows.append(["Total", len(notices)])
    source_rows: list[list[Cell]] = [
        ["Art. 16 notice", len(notices) - len(trusted), _median_hours(spans(untrusted))],
        ["Trusted flagger (Art. 22)", len(trusted), _median_hours(spans(trusted))],
        ["Total", len(notices), _median_hours(spans(notices))],
    ]
    actioned = [n for n in notices if n.decision_id in decisions]
    to_decision = [
        span
        for n in actioned
        if (span := _hours_between(n.created_at, decisions[n.decision_id or 0].starts_at))
        is not None
    ]
    return Section(
        "notices",
        "Notices (notice and action)",
        "DSA Art. 15(1)(b), 16; template section 4",
        figures=[
            ("notices_received", "Notices received", len(notices)),
            ("notices_trusted", "of which from trusted flaggers", len(trusted)),
            ("notices_actioned", "Notices acted upon", outcomes.get(NoticeState.ACTIONED.value, 0)),
            (
                "notice_median_hours_to_outcome",
                "Median time from notice to outcome (hours)",
                _median_hours(spans(notices)),
            ),
            (
                "notice_median_hours_to_decision",
                "Median time from notice to restricting decision (hours)",
                _median_hours(to_decision),
            ),
        ],
        tables=[
            Table(
                "notices_by_category",
                "Notices by category (received in the period)",
                [
                    "Category",
                    "Received",
                    "From trusted flaggers",
                    "Actioned",
                    "Actions on legal ground",
                    "Actions on terms of service",
                    "Median hours to outcome",
                    "Median hours (trusted flaggers)",
                ],
                rows,
            ),
            Table(
                "notices_by_source",
                "Notices by source",
                ["Source", "Received", "Median hours to outcome"],
                source_rows,
            ),
            Table("notices_by_outcome", "Notices by outcome", ["Outcome", "Notices"], outcome_rows),
        ],
    )


def _own_initiative(measures: list[_Facts]) -> Section:
    tables = []
    for ground, title in (("illegal", "illegal content"), ("terms", "terms-of-service breaches")):
        group = [
            f for f in measures if f.decision.source == "own_initiative" and f.ground == ground
        ]
        by_category: dict[str, list[_Facts]] = {}
        for f in group:
            by_category.setdefault(f.category, []).append(f)
        rows: list[list[Cell]] = []
        for code, items in [*sorted(by_category.items()), ("Total", group)]:
            kinds = Counter(kind for f in items for kind in f.restriction_kinds)
            rows.append(
                [
                    labels.category(code) if code != "Total" else "Total",
                    len(items),
                    sum(f.decision.automated_detection for f in items),
                    kinds["visibility"],
                    kinds["provision of the service"],
                    kinds["account"],
                    kinds["monetary"],
                ]
            )
        tables.append(
            Table(
                f"own_initiative_{ground}",
                f"Own-initiative measures against {title}",
                [
                    "Category",
                    "Measures",
                    "After automated detection",
                    "Visibility",
                    "Service",
                    "Account",
                    "Monetary",
                ],
                rows,
            )
        )
    return Section(
        "own_initiative",
        "Own-initiative moderation",
        "DSA Art. 15(1)(c); template sections 5 and 6",
        tables=tables,
        note="Measures taken without a notice: detectors, moderation lists and moderators' "
        "own review.",
    )


def _complained_about(appeal: Appeal, original: Decision | None, notice: Notice | None) -> str:
    if original is None:
        if notice is not None and notice.trusted_flagger_id is not None:
            return "No action on a trusted flagger's notice"
        return "No action on an Art. 16 notice"
    statement = json.loads(original.statement_json or "{}")
    for name, kind in labels.RESTRICTION_KINDS.items():
        if statement.get(name):
            return f"Restriction of {kind}"
    return "Other"


def _appeals(session: Session, period: Period, appeals: list[Appeal]) -> Section:
    received = [a for a in appeals if period.contains(a.created_at)]
    decided = [a for a in appeals if period.contains(a.decided_at)]
    originals = {
        d.id: d
        for d in session.scalars(
            select(Decision).where(
                Decision.id.in_({a.decision_id for a in appeals if a.decision_id})
            )
        )
    }
    notices = {
        n.id: n
        for n in session.scalars(
            select(Notice).where(Notice.id.in_({a.notice_id for a in appeals if a.notice_id}))
        )
    }

    def kind(appeal: Appeal) -> str:
        return _complained_about(
            appeal, originals.get(appeal.decision_id or 0), notices.get(appeal.notice_id or 0)
        )

    kinds = sorted({kind(a) for a in [*received, *decided]})
    rows: list[list[Cell]] = []
    for name in [*kinds, "Total"]:
        got = [a for a in received if name in ("Total", kind(a))]
        done = [a for a in decided if name in ("Total", kind(a))]
        outcomes = Counter(a.state for a in done)
        rows.append(
            [
                name,
                len(got),
                len(done),
                outcomes[AppealState.UPHELD.value],
                outcomes[AppealState.MODIFIED.value],
                outcomes[AppealState.REVERSED.value],
                _median_hours(
                    s for a in done if (s := _hours_between(a.created_at, a.decided_at)) is not None
                ),
            ]
        )
    outcomes = Counter(a.state for a in decided)
    reversed_share = (
        round(100 * (outcomes["reversed"] + outcomes["modified"]) / len(decided), 1)
        if decided
        else None
    )
    imposed = sum(
        1 for a in decided if a.notice_id is not None and a.state == AppealState.REVERSED.value
    )
    return Section(
        "appeals",
        "Appeals (internal complaints)",
        "DSA Art. 20, 24(1)(a); template section 7",
        figures=[
            ("appeals_received", "Appeals received", len(received)),
            ("appeals_decided", "Appeals decided", len(decided)),
            ("appeals_upheld", "Decisions upheld", outcomes[AppealState.UPHELD.value]),
            ("appeals_reversed", "Decisions reversed", outcomes[AppealState.REVERSED.value]),
            (
                "appeals_modified",
                "Decisions partially reversed",
                outcomes[AppealState.MODIFIED.value],
            ),
            (
                "appeal_reversal_rate",
                "Reversal rate (reversed or modified, % of decided)",
                reversed_share,
            ),
            (
                "appeals_median_hours",
                "Median time to decide an appeal (hours)",
                _median_hours(
                    s
                    for a in decided
                    if (s := _hours_between(a.created_at, a.decided_at)) is not None
                ),
            ),
            (
                "restrictions_after_complaint",
                "Restrictions imposed after a notifier's complaint",
                imposed,
            ),
        ],
        tables=[
            Table(
                "appeals_by_type",
                "Appeals by the decision complained about",
                [
                    "Decision complained about",
                    "Received",
                    "Decided",
                    "Upheld",
                    "Partially reversed",
                    "Reversed",
                    "Median hours to decide",
                ],
                rows,
            )
        ],
        note="Out-of-court dispute settlement (Art. 21) is not handled by Parvis; none recorded.",
    )


def _misuse(measures: list[_Facts]) -> Section:
    notices = [f for f in measures if f.decision.rule_id == MISUSE_RULE]
    repeated = [f for f in measures if f.decision.rule_id == ESCALATION_RULE]
    return Section(
        "misuse",
        "Measures against misuse",
        "DSA Art. 23, 24(1)(b); template section 7",
        figures=[
            (
                "suspensions_unfounded_notices",
                "Suspensions of notifying for manifestly unfounded notices",
                len(notices),
            ),
            (
                "suspensions_repeated_violations",
                "Account suspensions for repeated violations (strikes)",
                len(repeated),
            ),
            (
                "suspensions_unfounded_complaints",
                "Suspensions for manifestly unfounded complaints",
                0,
            ),
        ],
        note="Parvis does not suspend complaint handling; the last figure is always 0.",
    )


def _automation(measures: list[_Facts]) -> Section:
    scopes = {
        "All decisions": measures,
        "Own initiative": [f for f in measures if f.decision.source == "own_initiative"],
        "On notices (all)": [
            f for f in measures if f.decision.source in ("notice", "trusted_flagger")
        ],
        "On trusted flaggers' notices": [
            f for f in measures if f.decision.source == "trusted_flagger"
        ],
    }
    rows: list[list[Cell]] = [
        [
            scope,
            sum(f.decision.automated_decision == "fully" for f in group),
            sum(f.decision.automated_decision == "partially" for f in group),
            sum(f.decision.automated_decision == "not_automated" for f in group),
            len(group),
        ]
        for scope, group in scopes.items()
    ]
    return Section(
        "automation",
        "Use of automated means",
        "DSA Art. 15(1)(e); template section 8",
        tables=[
            Table(
                "automation_by_scope",
                "Decisions by automation",
                [
                    "Scope",
                    "Solely automated",
                    "Automated, confirmed by a person",
                    "Not automated",
                    "Total",
                ],
                rows,
            )
        ],
        note="Accuracy indicators: see the appeals section (reversal rate) and the "
        "consistency report for moderators.",
    )


def _series(
    period: Period, measures: list[_Facts], notices: list[Notice], appeals: list[Appeal]
) -> Series:
    starts = period.buckets()
    index = {start: i for i, start in enumerate(starts)}

    def count(moments: Iterable[datetime]) -> list[int]:
        values = [0] * len(starts)
        for moment in moments:
            if period.contains(moment):
                values[index[period.bucket_of(moment)]] += 1
        return values

    return Series(
        period.bucket,
        starts,
        {
            "Decisions": count(f.decision.starts_at for f in measures),
            "Notices": count(n.created_at for n in notices),
            "Appeals": count(a.created_at for a in appeals),
        },
    )
