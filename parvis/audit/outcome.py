"""What a verification found: problems pinned to leaves, ordered so the first names the first
bad leaf."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """Something that does not check; `leaf` is the first leaf it concerns, when one does."""

    sort_key: tuple[int, int, int]
    leaf: int | None
    message: str

    def __str__(self) -> str:
        return f"leaf {self.leaf}: {self.message}" if self.leaf is not None else self.message


@dataclass
class Outcome:
    """What a verification found."""

    source: str
    leaves: int = 0
    heads: int = 0
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, leaf: int | None, message: str) -> None:
        """Record a problem about one leaf, or about the log as a whole (leaf None)."""
        key = (0, leaf, len(self.problems)) if leaf is not None else (2, 0, len(self.problems))
        self.problems.append(Problem(key, leaf, message))

    def add_range(self, first: int, message: str) -> None:
        """Record a problem somewhere in the leaves from `first` on (a subtree or a head that
        no longer matches). Listed after problems pinned to one leaf, which say more."""
        self.problems.append(Problem((1, first, len(self.problems)), first, message))

    @property
    def ok(self) -> bool:
        """True when everything checked."""
        return not self.problems

    def sorted_problems(self) -> list[Problem]:
        """Problems pinned to one leaf, lowest first; then those about a range of leaves; then
        those about the log as a whole. The first one names the first bad leaf."""
        return sorted(self.problems)

    def summary(self) -> str:
        """One line saying what was checked."""
        rows = f", {self.rows} database rows matched" if self.rows else ""
        verdict = "OK" if self.ok else f"FAILED ({len(self.problems)} problems)"
        return f"{self.source}: {self.leaves} leaves, {self.heads} signed heads{rows}: {verdict}"
