"""Errors the services raise. The HTTP layers turn each into a status code and a clear message."""

from __future__ import annotations


class ParvisError(Exception):
    """Base of every expected error; `message` is safe to show to the person who caused it."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(ParvisError):
    """The request was understood but a value is wrong; the message says how to fix it."""

    status_code = 422


class NotFound(ParvisError):
    """The thing asked for does not exist, or the asker may not know it exists."""

    status_code = 404


class Unauthenticated(ParvisError):
    """The action needs a signed-in member (or a valid token)."""

    status_code = 401


class PermissionDenied(ParvisError):
    """The member is known but may not do this."""

    status_code = 403


class Conflict(ParvisError):
    """The action clashes with existing state (e.g. a username already taken)."""

    status_code = 409


class RateLimited(ParvisError):
    """Too many attempts; `retry_after` seconds until the next one may succeed."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
