"""The outbox: mail exists exactly when what it tells of committed, goes out once, in order,
and survives an SMTP failure."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from parvis.mail import outbox
from parvis.mail.models import OutgoingMail
from parvis.runtime import Runtime
from tests.servers import free_port


def _sent(runtime: Runtime) -> list[email.message.EmailMessage]:
    folder = runtime.settings.outbox_dir
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        found.append(parsed)
    return found


def test_mail_goes_out_once_after_commit_and_never_for_a_rollback(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        first = outbox.queue(session, "a@example.org", "First", "one")

    def a_failing_unit_of_work() -> None:
        with runtime.db.session() as session:
            outbox.queue(session, "b@example.org", "Rolled back", "never")
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError, match="decision failed"):
        a_failing_unit_of_work()
    with runtime.db.session() as session:
        outbox.queue(session, "c@example.org", "Second", "two")
    assert outbox.deliver_all(runtime.db, runtime.settings) == 2
    assert outbox.deliver_all(runtime.db, runtime.settings) == 0  # nothing twice
    sent = _sent(runtime)
    assert [m["Subject"] for m in sent] == ["First", "Second"]
    assert f".mail.{first}@" in str(sent[0]["Message-ID"])  # names its outgoing_mail row


def test_an_smtp_failure_keeps_the_mail_for_a_later_round(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        outbox.queue(session, "a@example.org", "Waiting", "body")
    runtime.settings.smtp_host = "127.0.0.1"
    runtime.settings.smtp_port = free_port()  # nothing listens: connection refused
    with pytest.raises(ConnectionRefusedError):
        outbox.deliver_pending(runtime.db, runtime.settings)
    with runtime.db.session() as session:
        row = session.scalars(select(OutgoingMail)).one()
        assert (row.sent_at, row.claimed_at, row.attempts) == (None, None, 1)
        assert row.last_error
    runtime.settings.smtp_host = ""  # the outbox folder again
    assert outbox.deliver_all(runtime.db, runtime.settings) == 1
    assert [m["Subject"] for m in _sent(runtime)] == ["Waiting"]
