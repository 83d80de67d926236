"""Submitting statements of reasons to the EU DSA Transparency Database API.

Batches of at most 100 go to `POST {base}/api/v1/statements` with the platform's bearer token.
429 and 5xx answers and failed connections are retried with exponential backoff (honouring
Retry-After); only a 201 means the database stored the batch (it is all-or-nothing).

Never twice: each statement is claimed in `dsa_submissions` (committed) before its batch is
sent and marked accepted when the 201 arrives. A claim left behind by an interrupted run (the
answer never came) is resolved first through the database's PUID lookup: found means accepted,
not found means it is sent again. A 422 naming puids the database already has marks those as
accepted and sends the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential,
)

from parvis.config import Settings
from parvis.errors import Conflict, InvalidInput, ParvisError
from parvis.storage.base import utcnow
from parvis.storage.database import Database
from parvis.transparency import export
from parvis.transparency.models import DsaSubmission, SubmissionState
from parvis.transparency.period import Period

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 300.0
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class SubmissionError(ParvisError):
    """The database refused us in a way retrying cannot fix, or kept failing."""

    status_code = 502


@dataclass
class SubmitResult:
    """What one run did, by puid."""

    accepted: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)  # the database had them already
    rejected: dict[str, list[str]] = field(default_factory=dict)  # refused by the database
    invalid: list[export.Invalid] = field(default_factory=list)  # refused by our validator
    skipped: int = 0  # accepted on an earlier run


class TransparencyClient:
    """The few API calls the submitter needs, with retries on 429, 5xx and network errors."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 2.0,
        timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput("Set dsa_api_url to the database's http(s) base URL.", "dsa_api_url")
        if not token:
            raise InvalidInput("Set dsa_api_token to the platform's API token.", "dsa_api_token")
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            timeout=timeout_seconds,
            follow_redirects=False,
        )
        self.max_attempts = max_attempts
        self.backoff = wait_exponential(multiplier=backoff_seconds, max=60)
        self.sleep = sleep
        self.attempts = 0  # requests made, for reports and tests

    @classmethod
    def from_settings(cls, settings: Settings) -> TransparencyClient:
        """A client configured by the `dsa_api_*` settings."""
        return cls(
            settings.dsa_api_url,
            settings.dsa_api_token.get_secret_value(),
            max_attempts=settings.dsa_api_max_attempts,
            backoff_seconds=settings.dsa_api_backoff_seconds,
            timeout_seconds=settings.dsa_api_timeout_seconds,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            response = outcome.result()
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                return min(float(retry_after), MAX_RETRY_AFTER)
        return float(self.backoff(state))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        def send() -> httpx.Response:
            self.attempts += 1
            return self.http.request(method, path, **kwargs)

        options: dict[str, Any] = {
            "stop": stop_after_attempt(self.max_attempts),
            "wait": self._wait,
            # Only errors where the request surely never arrived are retried at once; after a
            # lost answer (read timeout) the claims are checked by puid on the next run instead.
            "retry": retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
            | retry_if_exception_type(NOT_SENT),
            # Give back the last answer (or raise the last network error) when attempts run out.
            "retry_error_callback": lambda state: state.outcome.result(),
        }
        if self.sleep is not None:
            options["sleep"] = self.sleep
        response: httpx.Response = Retrying(**options)(send)
        return response

    def post_batch(self, statements: list[dict[str, Any]]) -> httpx.Response:
        """POST /api/v1/statements with 1 to 100 statements."""
        return self._request("POST", "/api/v1/statements", json={"statements": statements})

    def exists(self, puid: str) -> bool:
        """Whether the database already holds a statement with this puid (for this platform)."""
        response = self._request("GET", f"/api/v1/statement/existing-puid/{puid}")
        if response.status_code == 302:
            return True
        if response.status_code == 404:
            return False
        raise SubmissionError(_describe(response, "checking a puid"))


def _describe(response: httpx.Response, doing: str) -> str:
    if response.status_code == 401:
        return f"The Transparency Database refused the token (401) while {doing}."
    if response.status_code == 403:
        return f"The token may not create statements for a platform (403) while {doing}."
    return f"The Transparency Database answered {response.status_code} while {doing}."


def _resolve_claims(db: Database, client: TransparencyClient, result: SubmitResult) -> None:
    """Settle claims left by an interrupted run before anything is sent again."""
    with db.session() as session:
        left = session.scalars(
            select(DsaSubmission).where(DsaSubmission.state == SubmissionState.SENDING.value)
        ).all()
        for claim in left:
            if client.exists(claim.puid):
                claim.state = SubmissionState.ACCEPTED.value
                claim.accepted_at = utcnow()
                result.already_there.append(claim.puid)
            else:
                session.delete(claim)


def _claim(db: Database, decision_ids: list[int], puids: list[str]) -> None:
    try:
        with db.session() as session:
            for decision_id, puid in zip(decision_ids, puids, strict=True):
                session.add(DsaSubmission(decision_id=decision_id, puid=puid))
    except IntegrityError as exc:
        raise Conflict(
            "Another submission run is sending the same statements; try again when it ends."
        ) from exc


def _release(db: Database, puids: list[str]) -> None:
    if puids:
        with db.session() as session:
            session.execute(
                delete(DsaSubmission).where(
                    DsaSubmission.puid.in_(puids),
                    DsaSubmission.state == SubmissionState.SENDING.value,
                )
            )


def _accept(db: Database, accepted: dict[str, dict[str, Any]]) -> None:
    with db.session() as session:
        for claim in session.scalars(
            select(DsaSubmission).where(DsaSubmission.puid.in_(list(accepted)))
        ):
            answer = accepted[claim.puid]
            claim.state = SubmissionState.ACCEPTED.value
            claim.accepted_at = utcnow()
            claim.remote_uuid = str(answer.get("uuid") or "")[:64]
            claim.permalink = str(answer.get("permalink") or "")[:500]


def _send(
    db: Database,
    client: TransparencyClient,
    statements: list[dict[str, Any]],
    result: SubmitResult,
) -> None:
    """Send one batch until every statement in it is accepted, known or rejected."""
    pending = list(statements)
    while pending:
        puids = [s["puid"] for s in pending]
        try:
            response = client.post_batch(pending)
        except httpx.TransportError as exc:
            # The batch may or may not have arrived: the claims stay, and the next run asks the
            # database about each puid before sending it again.
            raise SubmissionError(
                f"No answer from the Transparency Database ({exc.__class__.__name__}); "
                f"{len(pending)} statements will be checked on the next run."
            ) from exc
        if response.status_code == 201:
            stored = {str(item.get("puid")): item for item in _items(response)}
            _accept(db, {puid: stored.get(puid, {}) for puid in puids})
            result.accepted.extend(puids)
            return
        if response.status_code == 422:
            body = _json(response)
            raw_errors = body.get("errors")
            errors: dict[str, Any] = raw_errors if isinstance(raw_errors, dict) else {}
            existing = [p for p in errors.get("existing_puids", []) if p in puids]
            if existing:
                _accept(db, {puid: {} for puid in existing})
                result.already_there.extend(existing)
                pending = [s for s in pending if s["puid"] not in existing]
                continue
            refused = _refused(errors, pending)
            if refused:
                _release(db, list(refused))
                result.rejected.update(refused)
                pending = [s for s in pending if s["puid"] not in refused]
                continue
        _release(db, puids)
        raise SubmissionError(_describe(response, f"sending {len(pending)} statements"))


def _items(response: httpx.Response) -> list[dict[str, Any]]:
    items = _json(response).get("statements")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refused(errors: dict[str, Any], pending: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per-statement validation errors, keyed `statement_<index>` by the database."""
    refused: dict[str, list[str]] = {}
    for key, value in errors.items():
        if key.startswith("statement_") and key.removeprefix("statement_").isdigit():
            index = int(key.removeprefix("statement_"))
            if index < len(pending):
                refused[pending[index]["puid"]] = [str(value)]
    return refused


def submit(
    db: Database, client: TransparencyClient, period: Period, *, batch_size: int = 100
) -> SubmitResult:
    """Send the period's statements the database does not have yet, in batches."""
    result = SubmitResult()
    _resolve_claims(db, client, result)
    with db.session() as session:
        done = frozenset(session.scalars(select(DsaSubmission.decision_id)))
        everything = export.collect(session, period)
        todo = export.collect(session, period, skip_decisions=done)
    result.skipped = len(everything.statements) - len(todo.statements)
    result.invalid = todo.invalid
    pairs = list(zip(todo.decision_ids, todo.statements, strict=True))
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        _claim(db, [d for d, _ in chunk], [s["puid"] for _, s in chunk])
        _send(db, client, [s for _, s in chunk], result)
    return result
