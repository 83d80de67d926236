"""Notice and action: the legally required parts, acknowledgement, priority and outcome."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parvis.accounts.models import Role, User
from parvis.errors import InvalidInput, NotFound, PermissionDenied
from parvis.moderation import notices
from parvis.moderation.models import Notice, NoticeState, TrustedFlagger
from parvis.runtime import Runtime
from tests.conftest import MakeUser, outbox_messages

HATE = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
EXPLANATION = "This post incites hatred against a religious group, which is a crime."


def _submit(runtime: Runtime, location: str, notifier: User | None = None, **kw: object) -> Notice:
    values: dict[str, object] = {
        "location": location,
        "category": HATE,
        "explanation": EXPLANATION,
        "good_faith": True,
        "name": "Nora Notifier",
        "email": "nora@example.org",
    }
    values.update(kw)
    with runtime.db.session() as session:
        me = session.get(User, notifier.id) if notifier else None
        return notices.submit_notice(session, runtime.services, notifier=me, **values)  # type: ignore[arg-type]


def test_notice_on_a_post_url_is_acknowledged_at_once(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author = make_user("author")
    post_id = post_by(author, "bad words")
    notice = _submit(runtime, f"http://testserver/@author/{post_id}")
    assert (notice.subject_type, notice.subject_key) == ("post", str(post_id))
    assert notice.acknowledged_at is not None
    assert notice.priority == 1
    message = outbox_messages(runtime.settings)[-1]
    assert "nora@example.org" in message
    assert f"notice #{notice.id}" in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"explanation": "bad"}, "at least 20"),
        ({"good_faith": False}, "good faith"),
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "valid e-mail"),
        ({"category": "hate"}, "category"),
        ({"location": "ftp://x/y"}, "http"),
        ({"location": "/not/a/post"}, "not a post"),
    ],
)
def test_incomplete_notices_are_refused_with_the_reason(
    runtime: Runtime, changes: dict[str, object], fragment: str
) -> None:
    options = dict(changes)
    location = str(options.pop("location", "https://elsewhere.example/page"))
    with pytest.raises(InvalidInput, match=fragment):
        _submit(runtime, location, None, **options)


def test_notice_on_unknown_post_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        _submit(runtime, "/@someone/99999")


def test_anonymous_notice_allowed_only_for_child_protection(runtime: Runtime) -> None:
    notice = _submit(
        runtime,
        "https://elsewhere.example/x",
        name="",
        email="",
        category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    )
    assert notice.subject_type == "url"
    assert outbox_messages(runtime.settings) == []


def test_trusted_flagger_notices_come_first(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    author, ngo = make_user("author"), make_user("ngo_watch")
    post_id = post_by(author, "text")
    with runtime.db.session() as session:
        session.add(TrustedFlagger(name="NGO Watch", user_id=ngo.id))
    # Received oldest first: a terms-of-service notice, two illegal-content ones, the flagger's.
    other = _submit(
        runtime, f"/@author/{post_id}", category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    )
    ordinary = _submit(runtime, f"/@author/{post_id}")
    later = _submit(runtime, f"/@author/{post_id}")
    trusted = _submit(runtime, f"/@author/{post_id}", notifier=ngo)
    with runtime.db.session() as session:
        queue = [n.id for n in notices.review_queue(session)]
    # Trusted flagger first, then illegal content before terms of service, then by age.
    assert queue == [trusted.id, ordinary.id, later.id, other.id]


def test_outcome_reaches_the_notifier(
    runtime: Runtime,
    make_user: MakeUser,
    post_by: Callable[[User, str], int],
    remove_post: Callable[[int, User], object],
) -> None:
    moderator = make_user("mod", role=Role.MODERATOR)
    member = make_user("member")
    post_id = post_by(make_user("author"), "text")
    notice = _submit(runtime, f"/@author/{post_id}")
    decision = remove_post(post_id, moderator)
    with runtime.db.session() as session:
        with pytest.raises(PermissionDenied):
            notices.resolve_notice(
                session, runtime.services, notice.id, session.get_one(User, member.id),
                outcome=NoticeState.NO_ACTION, explanation="x",
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="needs its decision"):
            notices.resolve_notice(
                session, runtime.services, notice.id, session.get_one(User, moderator.id),
                outcome=NoticeState.ACTIONED, explanation="Removed.",
            )  # fmt: skip
        notices.resolve_notice(
            session, runtime.services, notice.id, session.get_one(User, moderator.id),
            outcome=NoticeState.ACTIONED, explanation="Removed under the harassment rule.",
            decision=decision,  # type: ignore[arg-type]
        )  # fmt: skip
    message = outbox_messages(runtime.settings)[-1]
    assert f"Outcome of your notice #{notice.id}" in message
    assert "harassment rule" in message
    with runtime.db.session() as session:
        assert notices.review_queue(session) == []


def test_repeated_unfounded_notices_suspend_notifying_by_a_decision(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    from parvis.moderation import publication
    from parvis.moderation.models import AccountRestriction

    with runtime.db.session() as session:
        publication.ensure_default(session)
    moderator = make_user("mod", role=Role.MODERATOR)
    serial = make_user("serial")
    post_id = post_by(make_user("author"), "a perfectly fine post")
    for _ in range(notices.UNFOUNDED_THRESHOLD):
        notice = _submit(runtime, f"/@author/{post_id}", serial)
        with runtime.db.session() as session:
            notices.resolve_notice(
                session,
                runtime.services,
                notice.id,
                session.get_one(User, moderator.id),
                outcome=NoticeState.UNFOUNDED,
                explanation="Nothing illegal or against the rules.",
            )
    with runtime.db.session() as session:
        restriction = session.get_one(AccountRestriction, serial.id)
        assert restriction.features == "notices"
    with pytest.raises(PermissionDenied, match="notices are suspended"):
        _submit(runtime, f"/@author/{post_id}", serial)
    assert "suspended for a while" in outbox_messages(runtime.settings)[-2]
