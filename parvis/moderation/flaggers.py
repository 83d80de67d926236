"""Trusted flaggers (DSA Art. 22): organisations an admin designates, acting through a member
account. Their notices are reviewed first (`notices.submit_notice` gives them priority 0) and
decisions on them name the trusted-flagger source in the statement of reasons."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.accounts.services import get_user_by_username
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation.models import Notice, TrustedFlagger
from parvis.storage.base import utcnow


def _admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins designate trusted flaggers.")


def designate(session: Session, admin: User, username: str, name: str) -> TrustedFlagger:
    """Make the member account `username` act for the trusted-flagger organisation `name`."""
    _admin(admin)
    name = name.strip()
    if not 2 <= len(name) <= 200:
        raise InvalidInput("Give the organisation's name (2 to 200 characters).", "name")
    if not username.strip():
        raise InvalidInput("Give the username of the organisation's account.", "username")
    account = get_user_by_username(session, username.strip().lstrip("@"))
    existing = session.scalar(select(TrustedFlagger).where(TrustedFlagger.user_id == account.id))
    if existing is not None and existing.active:
        raise Conflict(f"@{account.username} already acts for {existing.name}.", "username")
    if existing is not None:  # designated again after a withdrawal
        existing.name, existing.designated_by_id, existing.created_at = name, admin.id, utcnow()
        existing.revoked_at = existing.revoked_by_id = None
        session.flush()
        return existing
    flagger = TrustedFlagger(name=name, user_id=account.id, designated_by_id=admin.id)
    session.add(flagger)
    session.flush()
    return flagger


def revoke(session: Session, admin: User, flagger_id: int) -> None:
    """Withdraw a designation (DSA Art. 22(7)): later notices from the account are ordinary
    ones. A designation that was used stays on record, withdrawn, since notices sent under it
    point at it; one made in error and never used is deleted."""
    _admin(admin)
    flagger = session.get(TrustedFlagger, flagger_id)
    if flagger is None or not flagger.active:
        raise NotFound("No such trusted flagger.")
    used = session.scalar(
        select(func.count()).select_from(Notice).where(Notice.trusted_flagger_id == flagger.id)
    )
    if used:
        flagger.revoked_at, flagger.revoked_by_id = utcnow(), admin.id
    else:
        session.delete(flagger)
    session.flush()


def listing(session: Session) -> list[tuple[TrustedFlagger, str]]:
    """Every organisation designated now with the username of its account, oldest first."""
    rows = session.execute(
        select(TrustedFlagger, User.username)
        .join(User, User.id == TrustedFlagger.user_id)
        .where(TrustedFlagger.revoked_at.is_(None))
        .order_by(TrustedFlagger.id)
    ).all()
    return [(flagger, username) for flagger, username in rows]
