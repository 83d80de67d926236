"""A row inserted directly is written as the ORM would write it (defaults, types, a generated
key), belongs to the session's transaction, and is then an ordinary persistent object."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import object_session

from parvis.mail.models import OutgoingMail
from parvis.runtime import Runtime
from parvis.social.models import Notification, NotificationKind, Post
from parvis.storage.direct import insert_object, insert_values
from tests.conftest import MakeUser


def test_defaults_types_and_the_generated_key_are_written(runtime: Runtime) -> None:
    before = datetime.now(UTC)
    with runtime.db.session() as session:
        mail = insert_object(
            session, OutgoingMail, recipient="a@example.org", subject="Hi", body="text"
        )
        assert mail.id is not None
        assert object_session(mail) is session
        assert mail not in session.new
        assert (mail.attempts, mail.last_error, mail.sent_at) == (0, "", None)
        assert mail.created_at >= before
        mail.attempts = 3  # an ordinary persistent object from here on
    with runtime.db.session() as session:
        stored = session.get_one(OutgoingMail, mail.id)
        assert (stored.recipient, stored.attempts, stored.last_error) == ("a@example.org", 3, "")
        assert stored.created_at == mail.created_at  # written as UTCDateTime writes it


def test_reading_the_row_back_takes_no_query(runtime: Runtime, make_user: MakeUser) -> None:
    ana = make_user("ana")
    with runtime.db.session() as session:
        row = insert_object(
            session,
            Notification,
            user_id=ana.id,
            actor_id=ana.id,
            kind=NotificationKind.FOLLOW.value,
        )
        statements: list[str] = []

        def seen(*args: object) -> None:
            statements.append(str(args[2]))

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert (row.post_id, row.read_at, row.user_id) == (None, None, ana.id)
            assert session.get(Notification, row.id) is row
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert statements == []


def test_the_insert_is_undone_with_its_transaction(runtime: Runtime) -> None:
    def failing() -> None:
        with runtime.db.session() as session:
            insert_object(session, OutgoingMail, recipient="b@example.org", subject="x", body="y")
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        failing()
    with runtime.db.session() as session:
        assert session.scalars(select(OutgoingMail.recipient)).all() == []


def test_a_rolled_back_object_leaves_the_session_as_a_flushed_one_would(
    runtime: Runtime,
) -> None:
    with runtime.db.session() as session:
        kept = insert_object(session, OutgoingMail, recipient="k@example.org", subject="k", body="")
        savepoint = session.begin_nested()
        undone = insert_object(
            session, OutgoingMail, recipient="u@example.org", subject="u", body=""
        )
        savepoint.rollback()
        assert inspect(undone).transient  # not a persistent object whose row is gone
        assert undone.recipient == "u@example.org"  # still readable, no ObjectDeletedError
        assert object_session(kept) is session
        assert kept.subject == "k"
        session.rollback()
        assert inspect(kept).transient
    with runtime.db.session() as session:
        assert session.scalars(select(OutgoingMail.recipient)).all() == []


def test_objects_waiting_in_the_session_are_written_first(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    with runtime.db.session() as session:
        post = Post(id=4242, author_id=ana.id, body_source="hello", body_html="<p>hello</p>")
        session.add(post)  # not flushed: the restriction below refers to it
        key = insert_values(
            session,
            Notification,
            user_id=ana.id,
            actor_id=ana.id,
            kind=NotificationKind.VOTE.value,
            post_id=4242,
        )
        assert post not in session.new
    with runtime.db.session() as session:
        assert session.get_one(Notification, key).post_id == 4242


def test_a_given_primary_key_is_kept(runtime: Runtime) -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    with runtime.db.session() as session:
        mail = insert_object(
            session,
            OutgoingMail,
            id=777,
            recipient="c@example.org",
            subject="s",
            body="b",
            claimed_at=later,
        )
        assert mail.id == 777
    with runtime.db.session() as session:
        stored = session.get_one(OutgoingMail, 777)
        assert (stored.recipient, stored.claimed_at) == ("c@example.org", later)


def test_a_row_from_values_is_written_with_its_defaults_and_no_object(
    runtime: Runtime, make_user: MakeUser
) -> None:
    ana = make_user("ana")
    before = datetime.now(UTC)
    with runtime.db.session() as session:
        key = insert_values(
            session,
            Notification,
            user_id=ana.id,
            actor_id=ana.id,
            kind=NotificationKind.MODERATION.value,
            decision_id=12,
        )
        assert not session.identity_map  # nothing attached: `ana` was loaded elsewhere
        found = session.scalars(select(Notification.decision_id).where(Notification.id == key))
        assert found.all() == [12]  # a read later in the transaction sees it
    with runtime.db.session() as session:
        stored = session.get_one(Notification, key)
        assert (stored.post_id, stored.read_at) == (None, None)
        assert stored.created_at >= before


def test_a_value_for_no_column_is_refused_before_anything_is_written(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        with pytest.raises(TypeError, match="OutgoingMail has no column for: recipent"):
            insert_values(session, OutgoingMail, recipent="a@example.org", subject="s", body="b")
        assert session.scalars(select(OutgoingMail.id)).all() == []


def test_an_object_left_unattached_is_written_but_kept_out_of_the_session(
    runtime: Runtime,
) -> None:
    with runtime.db.session() as session:
        mail = insert_object(
            session, OutgoingMail, attach=False, recipient="b@example.org", subject="S", body="x"
        )
        assert mail.id is not None
        assert mail.attempts == 0
        assert object_session(mail) is None
        assert inspect(mail).transient
        stored = session.get_one(OutgoingMail, mail.id)  # read from the database
        assert stored is not mail
        assert stored.recipient == "b@example.org"
    with runtime.db.session() as session:
        assert session.get_one(OutgoingMail, mail.id).subject == "S"  # committed with the rest
