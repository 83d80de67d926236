"""Do authors with big audiences, or old accounts, get treated differently? Rates by group and a
test of whether each group's rate differs from everyone else's more than chance would explain.

The test: for each group, a two-sided Fisher exact test on the 2x2 table (this group vs all
other groups) x (outcome yes vs no), from scipy. Fisher's test is exact, so it stays valid for
the small counts a single instance has. Because many groups are tested at once, the p-values of
a whole consistency report are adjusted together with the Benjamini-Hochberg procedure
(scipy.stats.false_discovery_control), and a difference is flagged when its adjusted p-value is
below 0.05: among the flagged differences, at most 5 % are expected to be chance findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from scipy.stats import false_discovery_control, fisher_exact

ALPHA = 0.05

# (label, lower bound included); the last band is open-ended.
FOLLOWER_BANDS: tuple[tuple[str, int], ...] = (
    ("under 100 followers", 0),
    ("100–999 followers", 100),
    ("1,000–9,999 followers", 1_000),
    ("10,000–99,999 followers", 10_000),
    ("100,000 followers or more", 100_000),
)
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("account under 30 days old", 0),
    ("account 30–364 days old", 30),
    ("account 1–3 years old", 365),
    ("account over 3 years old", 3 * 365),
)


def band(bands: tuple[tuple[str, int], ...], value: int) -> str:
    """The label of the band `value` falls in."""
    label = bands[0][0]
    for name, low in bands:
        if value >= low:
            label = name
    return label


def follower_band(followers: int) -> str:
    """The audience-size band of an author."""
    return band(FOLLOWER_BANDS, followers)


def age_band(created_at: datetime, at: datetime) -> str:
    """The account-age band of an author at a moment (when they posted, or appealed)."""
    return band(AGE_BANDS, max((at - created_at).days, 0))


@dataclass(frozen=True)
class Case:
    """One item compared: which groups its author belongs to, and whether the outcome occurred
    (actioned, or reversed on appeal)."""

    groups: dict[str, str]  # dimension -> band label
    outcome: bool


@dataclass
class GroupRow:
    """One group's figures and its test against all other groups."""

    label: str
    items: int
    outcomes: int
    rest_items: int
    rest_outcomes: int
    p_value: float | None = None
    adjusted: float | None = None

    @property
    def rate(self) -> float | None:
        """Share of items with the outcome, in percent."""
        return round(100 * self.outcomes / self.items, 1) if self.items else None

    @property
    def rest_rate(self) -> float | None:
        """The same share among all other groups."""
        return round(100 * self.rest_outcomes / self.rest_items, 1) if self.rest_items else None

    @property
    def flagged(self) -> bool:
        """True when the difference is unlikely to be chance (adjusted p below 0.05)."""
        return self.adjusted is not None and self.adjusted < ALPHA


@dataclass
class Comparison:
    """A measure (e.g. action rate) compared across the bands of one dimension."""

    measure: str
    dimension: str
    bands: tuple[tuple[str, int], ...]
    rows: list[GroupRow] = field(default_factory=list)


def compare(
    measure: str, dimension: str, bands: tuple[tuple[str, int], ...], cases: list[Case]
) -> Comparison:
    """Rates per band of `dimension`, each tested against the other bands (p-values unadjusted
    until `adjust` is called over the whole report)."""
    total = len(cases)
    total_outcomes = sum(c.outcome for c in cases)
    comparison = Comparison(measure, dimension, bands)
    for label, _low in bands:
        inside = [c for c in cases if c.groups[dimension] == label]
        if not inside:
            continue
        hits = sum(c.outcome for c in inside)
        row = GroupRow(label, len(inside), hits, total - len(inside), total_outcomes - hits)
        if row.rest_items:
            table = [
                [row.outcomes, row.items - row.outcomes],
                [row.rest_outcomes, row.rest_items - row.rest_outcomes],
            ]
            row.p_value = float(fisher_exact(table, alternative="two-sided").pvalue)
        comparison.rows.append(row)
    return comparison


def adjust(comparisons: Iterable[Comparison]) -> None:
    """Benjamini-Hochberg adjustment over every test of the report, in place."""
    tested = [row for c in comparisons for row in c.rows if row.p_value is not None]
    if not tested:
        return
    adjusted = false_discovery_control([row.p_value for row in tested], method="bh")
    for row, value in zip(tested, adjusted, strict=True):
        row.adjusted = float(value)
