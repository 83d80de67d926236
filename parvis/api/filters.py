"""Filters (/api/v1/filters and /api/v2/filters with keywords) over Parvis's muted words.

A muted word hides matching posts everywhere and for good, so every filter reads back with
all contexts, `irreversible: true` (v1) and `filter_action: "hide"` (v2), whatever the client
asked. A v2 filter holds exactly one keyword (its muted word): the filter, its keyword and the
muted word share one id. Expiring filters and filters on single statuses are refused (422).
"""

from __future__ import annotations

import json
import re

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from typing_extensions import TypedDict

from parvis.accounts.models import User
from parvis.api.auth import Caller, caller
from parvis.api.ids import parse_id
from parvis.api.params import Params, read_params
from parvis.errors import InvalidInput, NotFound
from parvis.runtime import Runtime, get_runtime
from parvis.social import graph
from parvis.social.models import MutedWord

router = APIRouter(tags=["filters"])
CONTEXTS = ["home", "notifications", "public", "thread", "account"]


class V1Filter(TypedDict):
    """Mastodon's V1::Filter entity."""

    id: str
    phrase: str
    context: list[str]
    whole_word: bool
    expires_at: str | None
    irreversible: bool


class FilterKeyword(TypedDict):
    """Mastodon's FilterKeyword entity."""

    id: str
    keyword: str
    whole_word: bool


class FilterStatus(TypedDict):
    """Mastodon's FilterStatus entity (Parvis has none: muted words only)."""

    id: str
    status_id: str


class Filter(TypedDict):
    """Mastodon's (v2) Filter entity."""

    id: str
    title: str
    context: list[str]
    expires_at: str | None
    filter_action: str
    keywords: list[FilterKeyword]
    statuses: list[FilterStatus]


def v1_filter(row: MutedWord) -> V1Filter:
    """A muted word as a v1 filter."""
    return {
        "id": str(row.id),
        "phrase": row.phrase,
        "context": list(CONTEXTS),
        "whole_word": row.whole_word,
        "expires_at": None,
        "irreversible": True,
    }


def keyword(row: MutedWord) -> FilterKeyword:
    """A muted word as a filter keyword."""
    return {"id": str(row.id), "keyword": row.phrase, "whole_word": row.whole_word}


def v2_filter(row: MutedWord) -> Filter:
    """A muted word as a v2 filter with one keyword."""
    return {
        "id": str(row.id),
        "title": row.phrase,
        "context": list(CONTEXTS),
        "expires_at": None,
        "filter_action": "hide",
        "keywords": [keyword(row)],
        "statuses": [],
    }


def _check(params: Params) -> None:
    contexts = params.list("context")
    unknown = [c for c in contexts if c not in CONTEXTS]
    if unknown:
        raise InvalidInput(f"Unknown context '{unknown[0]}'; contexts: {', '.join(CONTEXTS)}.")
    if params.get("expires_in"):
        raise InvalidInput("Muted words do not expire on Parvis; leave expires_in empty.")


def _word(session: Session, user: User, word_id: str) -> MutedWord:
    number = parse_id(word_id)
    row = session.get(MutedWord, number) if number is not None else None
    if row is None or row.user_id != user.id:
        raise NotFound("Record not found")
    return row


KEYWORD_FIELD = re.compile(r"^keywords_attributes\[(\d*)\]\[(keyword|whole_word|_destroy|id)\]$")


async def keyword_attributes(request: Request) -> list[dict[str, str]]:
    """`keywords_attributes` as Mastodon clients send it: a JSON array of objects, or form
    fields `keywords_attributes[][keyword]` / `keywords_attributes[0][keyword]`."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise InvalidInput("The request body is not valid JSON.") from exc
        items = data.get("keywords_attributes") if isinstance(data, dict) else None
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidInput("keywords_attributes must be an array of objects.")
        return [
            {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in i.items()}
            for i in items
        ]
    params = await read_params(request)
    indexed: dict[str, dict[str, str]] = {}
    anonymous: list[dict[str, str]] = []
    for key, values in params.values.items():
        match = KEYWORD_FIELD.match(key)
        if not match:
            continue
        index, name = match.groups()
        if index:
            indexed.setdefault(index, {})[name] = values[-1]
        else:
            for position, value in enumerate(values):
                while len(anonymous) <= position:
                    anonymous.append({})
                anonymous[position][name] = value
    return anonymous + [indexed[k] for k in sorted(indexed, key=int)]


def _one_keyword(items: list[dict[str, str]]) -> tuple[str, bool] | None:
    if any(i.get("_destroy") in ("true", "1") for i in items):
        raise InvalidInput("A Parvis filter keeps its one keyword; delete the filter instead.")
    if len(items) > 1:
        raise InvalidInput(
            "A Parvis filter holds one keyword (one muted word): create one filter per keyword."
        )
    if not items:
        return None
    return items[0].get("keyword", ""), items[0].get("whole_word", "true") in ("true", "1")


def _change_word(
    runtime: Runtime, user: User, word_id: str, params: Params, phrase_name: str
) -> MutedWord:
    """Change a muted word from a v1 filter (`phrase`) or a v2 keyword (`keyword`)."""
    with runtime.db.session() as session:
        row = _word(session, user, word_id)
        return graph.update_muted_word(
            session,
            session.get_one(User, user.id),
            row.id,
            params.get(phrase_name) or row.phrase,
            params.boolean("whole_word", row.whole_word),
        )


def _unmute(runtime: Runtime, user: User, word_id: str) -> None:
    """Remove a muted word (a v1 filter, or a v2 keyword and its filter)."""
    with runtime.db.session() as session:
        row = _word(session, user, word_id)
        graph.remove_muted_word(session, session.get_one(User, user.id), row.id)


@router.get("/api/v1/filters")
def list_v1(
    who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[V1Filter]:
    """The member's muted words as v1 filters."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return [v1_filter(w) for w in graph.muted_words(session, user)]


@router.post("/api/v1/filters")
def create_v1(
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> V1Filter:
    """Mute a word or phrase (`phrase`, `whole_word`)."""
    user = who.member("write:filters")
    _check(params)
    with runtime.db.session() as session:
        row = graph.add_muted_word(
            session,
            session.get_one(User, user.id),
            params.get("phrase"),
            params.boolean("whole_word", True),
        )
        return v1_filter(row)


@router.get("/api/v1/filters/{filter_id}")
def get_v1(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> V1Filter:
    """One muted word as a v1 filter."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return v1_filter(_word(session, user, filter_id))


@router.put("/api/v1/filters/{filter_id}")
def update_v1(
    filter_id: str,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> V1Filter:
    """Change a muted word (`phrase`, `whole_word`)."""
    user = who.member("write:filters")
    _check(params)
    return v1_filter(_change_word(runtime, user, filter_id, params, "phrase"))


@router.delete("/api/v1/filters/{filter_id}")
def delete_v1(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, str]:
    """Unmute a word."""
    _unmute(runtime, who.member("write:filters"), filter_id)
    return {}


@router.get("/api/v2/filters")
def list_v2(who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)) -> list[Filter]:
    """The member's muted words as v2 filters."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return [v2_filter(w) for w in graph.muted_words(session, user)]


@router.post("/api/v2/filters")
def create_v2(
    params: Params = Depends(read_params),
    items: list[dict[str, str]] = Depends(keyword_attributes),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Filter:
    """Mute a word: `title` and one keyword (`keywords_attributes[][keyword]`, optional
    `keywords_attributes[][whole_word]`); the keyword defaults to the title."""
    user = who.member("write:filters")
    _check(params)
    phrase, whole = _one_keyword(items) or (params.get("title"), True)
    if not phrase.strip():
        raise InvalidInput("title is required.", "title")
    with runtime.db.session() as session:
        row = graph.add_muted_word(session, session.get_one(User, user.id), phrase, whole)
        return v2_filter(row)


@router.get("/api/v2/filters/keywords/{keyword_id}")
def get_keyword(
    keyword_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> FilterKeyword:
    """One keyword (a muted word)."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return keyword(_word(session, user, keyword_id))


@router.put("/api/v2/filters/keywords/{keyword_id}")
def update_keyword(
    keyword_id: str,
    params: Params = Depends(read_params),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> FilterKeyword:
    """Change a keyword (`keyword`, `whole_word`)."""
    user = who.member("write:filters")
    return keyword(_change_word(runtime, user, keyword_id, params, "keyword"))


@router.delete("/api/v2/filters/keywords/{keyword_id}")
def delete_keyword(
    keyword_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, str]:
    """Remove a keyword, and with it its filter (a Parvis filter has one keyword)."""
    _unmute(runtime, who.member("write:filters"), keyword_id)
    return {}


@router.get("/api/v2/filters/{filter_id}")
def get_v2(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> Filter:
    """One muted word as a v2 filter."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return v2_filter(_word(session, user, filter_id))


@router.put("/api/v2/filters/{filter_id}")
def update_v2(
    filter_id: str,
    params: Params = Depends(read_params),
    items: list[dict[str, str]] = Depends(keyword_attributes),
    who: Caller = Depends(caller),
    runtime: Runtime = Depends(get_runtime),
) -> Filter:
    """Change a filter: its `title` or its keyword (`keywords_attributes[][keyword]`)."""
    user = who.member("write:filters")
    _check(params)
    chosen = _one_keyword(items)
    with runtime.db.session() as session:
        row = _word(session, user, filter_id)
        phrase, whole = chosen or (params.get("title") or row.phrase, row.whole_word)
        row = graph.update_muted_word(
            session, session.get_one(User, user.id), row.id, phrase, whole
        )
        return v2_filter(row)


@router.delete("/api/v2/filters/{filter_id}")
def delete_v2(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> dict[str, str]:
    """Delete a filter (unmute its word)."""
    _unmute(runtime, who.member("write:filters"), filter_id)
    return {}


@router.get("/api/v2/filters/{filter_id}/keywords")
def list_keywords(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[FilterKeyword]:
    """A filter's keywords (always its one muted word)."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        return [keyword(_word(session, user, filter_id))]


@router.post("/api/v2/filters/{filter_id}/keywords")
def add_keyword(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> FilterKeyword:
    """Refused: a Parvis filter holds one keyword; create another filter for another word."""
    user = who.member("write:filters")
    with runtime.db.session() as session:
        _word(session, user, filter_id)
    raise InvalidInput("A Parvis filter holds one keyword: create another filter for another word.")


@router.get("/api/v2/filters/{filter_id}/statuses")
def list_filter_statuses(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> list[FilterStatus]:
    """A filter's statuses (always none: Parvis filters are muted words)."""
    user = who.member("read:filters")
    with runtime.db.session() as session:
        _word(session, user, filter_id)
    return []


@router.post("/api/v2/filters/{filter_id}/statuses")
def add_filter_status(
    filter_id: str, who: Caller = Depends(caller), runtime: Runtime = Depends(get_runtime)
) -> FilterStatus:
    """Refused: Parvis filters are muted words; mute the author or the words instead."""
    user = who.member("write:filters")
    with runtime.db.session() as session:
        _word(session, user, filter_id)
    raise InvalidInput(
        "Parvis filters are muted words; filtering single statuses is not supported."
    )
