"""A moderator reviews what a rule applied alone: uphold or reverse, each a decision of their own
that supersedes the automated one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from parvis.accounts.models import Role, User
from parvis.errors import Conflict, InvalidInput, PermissionDenied
from parvis.moderation import appeals, automated_review, decisions
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    Action,
    Automation,
    Decision,
    DecisionState,
    PostRestriction,
    Source,
    SubjectType,
)
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.moderation.conftest import HARASSMENT, post_screened

DOXXING = "Kelly Howard SSN 589-18-6326 lives at 2996 Drub Avenue"


def _automated(runtime: Runtime, post_id: int) -> Decision:
    with runtime.db.session() as session:
        return session.scalars(select(Decision).where(Decision.subject_key == str(post_id))).one()


def _review(
    runtime: Runtime, moderator: User, decision_id: int, *, uphold: bool, facts: str
) -> Decision:
    with runtime.db.session() as session:
        return automated_review.review(
            session,
            session.get_one(User, moderator.id),
            decision_id,
            uphold=uphold,
            facts=facts,
        )


def _waiting_ids(runtime: Runtime) -> list[int]:
    with runtime.db.session() as session:
        return [d.id for d in automated_review.awaiting_review(session)]


def test_a_doxxing_removal_waits_for_review_until_a_moderator_upholds_it(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author, mod = make_user("author"), make_user("mod_one", role=Role.MODERATOR)
    post_id = post_screened(runtime, author, DOXXING)
    automated = _automated(runtime, post_id)
    assert automated.automated_decision == Automation.FULLY.value
    assert _waiting_ids(runtime) == [automated.id]
    upheld = _review(
        runtime, mod, automated.id, uphold=True, facts="Checked: a real identifier and address."
    )
    assert (upheld.action, upheld.supersedes_id) == (Action.REMOVE.value, automated.id)
    assert (upheld.automated_decision, upheld.decided_by_id) == (
        Automation.NOT_AUTOMATED.value,
        mod.id,
    )
    assert _waiting_ids(runtime) == []
    with runtime.db.session() as session:
        assert session.get_one(PostRestriction, post_id).decision_id == upheld.id
        assert session.get_one(Decision, automated.id).state == DecisionState.SUPERSEDED.value


def test_reversal_restores_the_post_at_once(runtime: Runtime, make_user: MakeUser) -> None:
    author, mod = make_user("author"), make_user("mod_one", role=Role.MODERATOR)
    post_id = post_screened(runtime, author, DOXXING)
    automated = _automated(runtime, post_id)
    reversed_ = _review(
        runtime, mod, automated.id, uphold=False, facts="A fictional character in a novel."
    )
    assert reversed_.action == Action.RESTORE.value
    with runtime.db.session() as session:
        assert session.get(PostRestriction, post_id) is None
    assert _waiting_ids(runtime) == []


def test_only_moderators_review_and_only_once(runtime: Runtime, make_user: MakeUser) -> None:
    author, mod = make_user("author"), make_user("mod_one", role=Role.MODERATOR)
    automated = _automated(runtime, post_screened(runtime, author, DOXXING))
    with pytest.raises(PermissionDenied, match="Only moderators"):
        _review(runtime, author, automated.id, uphold=False, facts="I disagree.")
    with pytest.raises(InvalidInput, match="facts"):
        _review(runtime, mod, automated.id, uphold=True, facts="  ")
    _review(runtime, mod, automated.id, uphold=True, facts="Checked the identifier.")
    with pytest.raises(InvalidInput, match="no longer awaiting review"):
        _review(runtime, mod, automated.id, uphold=False, facts="Second thoughts.")


def test_a_persons_decision_is_not_reviewed_here(
    runtime: Runtime,
    make_user: MakeUser,
    post_by: Callable[[User, str], int],
    remove_post: Callable[[int, User], Decision],
) -> None:
    author, mod = make_user("author"), make_user("mod_one", role=Role.MODERATOR)
    decision = remove_post(post_by(author, "words"), mod)
    assert decision.id not in _waiting_ids(runtime)
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="taken by a person"):
        automated_review.review(
            session, session.get_one(User, mod.id), decision.id, uphold=True, facts="Looks right."
        )


def test_an_appealed_automated_decision_is_decided_through_its_appeal(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author, mod = make_user("author"), make_user("mod_one", role=Role.MODERATOR)
    automated = _automated(runtime, post_screened(runtime, author, DOXXING))
    with runtime.db.session() as session:
        appeal = appeals.file_appeal(
            session, session.get_one(User, author.id), automated.id, "These are made up."
        )
    assert _waiting_ids(runtime) == []  # it waits with the appeals
    with pytest.raises(Conflict, match=f"appeal #{appeal.id}"):
        _review(runtime, mod, automated.id, uphold=True, facts="Checked the identifier.")


def test_the_strongest_restriction_is_listed_first_then_the_oldest(
    runtime: Runtime, make_user: MakeUser
) -> None:
    author, other = make_user("author"), make_user("other")
    removal = _automated(runtime, post_screened(runtime, author, DOXXING))
    later_removal = _automated(runtime, post_screened(runtime, other, DOXXING))
    with runtime.db.session() as session:
        suspension = decisions.decide(
            session,
            DecisionRequest(
                subject_type=SubjectType.ACCOUNT,
                subject_key=str(other.id),
                action=Action.SUSPEND,
                rule=HARASSMENT,
                facts="The third strike within the window.",
                source=Source.OWN_INITIATIVE,
                automated_detection=True,
                automated_decision=Automation.FULLY,
                duration=timedelta(days=7),
            ),
        )
    assert _waiting_ids(runtime) == [suspension.id, removal.id, later_removal.id]
