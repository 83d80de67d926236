"""Keyset paging for the admin lists (reports, accounts): Mastodon's `max_id`, `since_id`,
`min_id` and `limit` (default 100, at most 200) over any integer id column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Query
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from parvis.api.ids import parse_id
from parvis.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class AdminPage:
    """Where a page of an admin list starts and how long it is."""

    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int


async def admin_page(
    max_id: str | None = Query(None, description="Return results older than this id."),
    since_id: str | None = Query(None, description="Return results newer than this id."),
    min_id: str | None = Query(None, description="Return results immediately newer than this id."),
    limit: int = Query(100, ge=1, le=200, description="Maximum number of results (100 default)."),
) -> AdminPage:
    """Parse admin pagination parameters (ids are strings in Mastodon's API)."""
    return AdminPage(_as_id(max_id), _as_id(since_id), _as_id(min_id), limit)


def _as_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    number = parse_id(value)
    if number is None:
        raise InvalidInput(f"Invalid id '{value[:40]}': ids are digit strings.")
    return number


def paged(
    query: Select[T], column: InstrumentedAttribute[Any], page: AdminPage
) -> tuple[Select[T], bool]:
    """The query limited to the page, newest first; True when rows come oldest first (min_id)
    and must be reversed by the caller."""
    if page.max_id is not None:
        query = query.where(column < page.max_id)
    if page.since_id is not None:
        query = query.where(column > page.since_id)
    if page.min_id is not None:
        return query.where(column > page.min_id).order_by(column.asc()).limit(page.limit), True
    return query.order_by(column.desc()).limit(page.limit), False
