"""Appeals: within six calendar months of the statement of reasons, by the affected member,
decided by another moderator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from parvis.accounts.models import Role, User
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.moderation import appeals
from parvis.moderation.models import (
    Action,
    AppealState,
    Decision,
    DecisionState,
    PostRestriction,
)
from parvis.runtime import Runtime
from parvis.storage.base import utcnow
from tests.conftest import MakeUser

PostBy = Callable[[User, str], int]
RemovePost = Callable[[int, User], Decision]


def _setup(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> tuple[User, User, User, Decision, int]:
    author = make_user("author")
    first_mod = make_user("mod_one", role=Role.MODERATOR)
    second_mod = make_user("mod_two", role=Role.MODERATOR)
    post_id = post_by(author, "words")
    return author, first_mod, second_mod, remove_post(post_id, first_mod), post_id


def test_reversal_by_another_moderator_restores_the_post(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> None:
    author, first_mod, second_mod, decision, post_id = _setup(
        runtime, make_user, post_by, remove_post
    )
    with runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), decision.id, "It was a quotation."
        )
    with runtime.db.session() as session:
        with pytest.raises(PermissionDenied, match="another moderator"):
            appeals.decide_appeal(
                session, appeal.id, session.get_one(User, first_mod.id),
                outcome=AppealState.REVERSED, facts="Quoted, not meant.",
            )  # fmt: skip
        outcome = appeals.decide_appeal(
            session, appeal.id, session.get_one(User, second_mod.id),
            outcome=AppealState.REVERSED, facts="The post quoted the abuse to denounce it.",
        )  # fmt: skip
    with runtime.db.session() as session:
        assert outcome.action == Action.RESTORE.value
        assert outcome.supersedes_id == decision.id
        assert session.get(PostRestriction, post_id) is None
        assert session.get_one(Decision, decision.id).state == DecisionState.SUPERSEDED.value


def test_upheld_appeal_is_a_new_decision_and_keeps_the_effect(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> None:
    author, _first, second_mod, decision, post_id = _setup(runtime, make_user, post_by, remove_post)
    with runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), decision.id, "Unfair!!!!"
        )
        outcome = appeals.decide_appeal(
            session, appeal.id, session.get_one(User, second_mod.id),
            outcome=AppealState.UPHELD, facts="The insults were direct and repeated.",
        )  # fmt: skip
        assert outcome.statement_json
    with runtime.db.session() as session:
        assert session.get_one(PostRestriction, post_id).decision_id == outcome.id


def test_only_the_affected_member_within_six_months_and_once(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> None:
    author, _first, _second, decision, _post = _setup(runtime, make_user, post_by, remove_post)
    stranger = make_user("stranger")
    with runtime.db.session() as session:
        with pytest.raises(PermissionDenied):
            appeals.file_appeal(session, session.get_one(User, stranger.id), decision.id, "x" * 20)
        with pytest.raises(InvalidInput, match="10 to 5000"):
            appeals.file_appeal(session, session.get_one(User, author.id), decision.id, "no")
        appeals.file_appeal(session, session.get_one(User, author.id), decision.id, "x" * 20)
    with runtime.db.session() as session, pytest.raises(Conflict, match="already open"):
        appeals.file_appeal(session, session.get_one(User, author.id), decision.id, "y" * 20)
    with runtime.db.session() as session:
        stored = session.get_one(Decision, decision.id)
        stored.starts_at = stored.starts_at - timedelta(days=200)
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="six months"):
        appeals.file_appeal(session, session.get_one(User, author.id), decision.id, "z" * 20)


def test_modified_outcome_needs_a_different_action(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> None:
    author, _first, second_mod, decision, post_id = _setup(runtime, make_user, post_by, remove_post)
    with runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), decision.id, "x" * 20
        )
        moderator = session.get_one(User, second_mod.id)
        with pytest.raises(InvalidInput, match="different action"):
            appeals.decide_appeal(
                session, appeal.id, moderator,
                outcome=AppealState.MODIFIED, facts="f", new_action=Action.REMOVE,
            )  # fmt: skip
        appeals.decide_appeal(
            session, appeal.id, moderator, outcome=AppealState.MODIFIED,
            facts="Harsh but not targeted: a warning screen is enough.",
            new_action=Action.INTERSTITIAL,
        )  # fmt: skip
    with runtime.db.session() as session:
        assert session.get_one(PostRestriction, post_id).action == "interstitial"


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        (datetime(2026, 1, 15, 9, 30, tzinfo=UTC), datetime(2026, 7, 15, 9, 30, tzinfo=UTC)),
        (datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),  # 184 days
        (datetime(2026, 8, 31, tzinfo=UTC), datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 8, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
    ],
)
def test_six_months_are_calendar_months(start: datetime, deadline: datetime) -> None:
    assert appeals.six_months_after(start) == deadline


def test_the_six_months_run_from_when_the_statement_was_sent(
    runtime: Runtime, make_user: MakeUser, post_by: PostBy, remove_post: RemovePost
) -> None:
    """A proposal confirmed later is delivered then: the window starts at confirmation."""
    author, _first, _second, decision, _post = _setup(runtime, make_user, post_by, remove_post)
    with runtime.db.session() as session:
        stored = session.get_one(Decision, decision.id)
        stored.created_at = stored.created_at - timedelta(days=300)  # proposed long ago
        stored.starts_at = utcnow() - timedelta(days=150)  # confirmed five months ago
    with runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), decision.id, "Still within six months."
        )
        assert appeal.state == AppealState.OPEN.value
        assert appeals.appeal_deadline(session.get_one(Decision, decision.id)) > utcnow()
