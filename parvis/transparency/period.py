"""A reporting period: whole UTC days from a first to a last date, and its time buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from parvis.errors import InvalidInput
from parvis.storage.base import utcnow

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Period:
    """Whole UTC days `first`..`last`, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.first, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> int:
        """How many days the period covers."""
        return (self.last - self.first).days + 1

    def contains(self, moment: datetime | None) -> bool:
        """True when `moment` falls within the period."""
        return moment is not None and self.start <= moment < self.end

    @property
    def bucket(self) -> str:
        """The step of the charts over time: day, week or month, by the period's length."""
        if self.days <= 62:
            return "day"
        if self.days <= 366:
            return "week"
        return "month"

    def bucket_of(self, moment: datetime) -> date:
        """The first day of the bucket `moment` falls in."""
        day = moment.date()
        if self.bucket == "day":
            return day
        if self.bucket == "week":
            return max(self.first, day - timedelta(days=day.weekday()))
        return max(self.first, day.replace(day=1))

    def buckets(self) -> list[date]:
        """Every bucket's first day, in order (empty buckets included, for honest charts)."""
        seen: list[date] = []
        day = self.first
        while day <= self.last:
            key = self.bucket_of(datetime.combine(day, time.min, tzinfo=UTC))
            if not seen or seen[-1] != key:
                seen.append(key)
            day += timedelta(days=1)
        return seen

    def label(self) -> str:
        """'2026-01-01 to 2026-01-31'."""
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def parse_period(first: str | None, last: str | None, *, today: date | None = None) -> Period:
    """The period named by two optional YYYY-MM-DD dates (default: the last 30 days).

    Raises InvalidInput with a message fit for a form or a command line.
    """
    today = today or utcnow().date()

    def parse(value: str, name: str) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInput(f"{name} must be a date written YYYY-MM-DD.", name) from exc

    end = parse(last, "to") if last else today
    start = parse(first, "from") if first else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("The period starts after it ends: swap 'from' and 'to'.", "from")
    if (end - start).days > 366 * 10:
        raise InvalidInput("A report covers at most ten years.", "from")
    return Period(start, end)
