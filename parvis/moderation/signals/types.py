"""The Signal: what a detector found, where, and how sure it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Signal:
    """Evidence found in a text: `kind`, character span [start, end), confidence 0..1."""

    kind: str
    start: int
    end: int
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by `parvis scan` and the review queue)."""
        return {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "confidence": self.confidence,
            **self.evidence,
        }
