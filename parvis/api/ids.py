"""Ids in paths and parameters: Mastodon sends them as strings of digits. Anything else, or a
number too large for a database integer, names nothing (so: 404, or a clear 422)."""

from __future__ import annotations

# The largest id a row can have on every supported database (PostgreSQL's INTEGER is 32-bit):
# a larger number names nothing, and must not reach a query (PostgreSQL would refuse it).
MAX_ID = 2**31 - 1


def parse_id(value: str | None) -> int | None:
    """The id a string names, or None when it is not one (ASCII digits, at most MAX_ID)."""
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None
