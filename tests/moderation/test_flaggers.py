"""Trusted flaggers: admins designate them (on the desk), their notices go first, and a
designation that was used stays on record."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from parvis.moderation import flaggers, notices, publication
from parvis.moderation.models import TrustedFlagger
from parvis.runtime import Runtime
from tests.conftest import MakeUser
from tests.web.conftest import form_post, login


def test_only_admins_designate_and_each_account_acts_for_one_organisation(
    runtime: Runtime, make_user: MakeUser
) -> None:
    admin = make_user("boss", role=Role.ADMIN)
    moderator = make_user("mod", role=Role.MODERATOR)
    make_user("ngo_watch")
    with runtime.db.session() as session:
        with pytest.raises(PermissionDenied, match="Only admins"):
            flaggers.designate(session, session.get_one(User, moderator.id), "ngo_watch", "NGO")
        with pytest.raises(InvalidInput, match="organisation's name"):
            flaggers.designate(session, session.get_one(User, admin.id), "ngo_watch", " ")
        with pytest.raises(NotFound):
            flaggers.designate(session, session.get_one(User, admin.id), "nobody", "NGO Watch")
        made = flaggers.designate(session, session.get_one(User, admin.id), "@ngo_watch", "NGO")
        assert made.designated_by_id == admin.id
        with pytest.raises(Conflict, match="already acts for NGO"):
            flaggers.designate(session, session.get_one(User, admin.id), "ngo_watch", "Other")
        assert [(f.name, name) for f, name in flaggers.listing(session)] == [("NGO", "ngo_watch")]


def test_a_used_designation_is_withdrawn_on_record_and_an_unused_one_deleted(
    runtime: Runtime, make_user: MakeUser, post_by: Callable[[User, str], int]
) -> None:
    admin = make_user("boss", role=Role.ADMIN)
    ngo = make_user("ngo_watch")
    make_user("hotline")
    author = make_user("author")
    post_id = post_by(author, "hateful words")
    with runtime.db.session() as session:
        boss = session.get_one(User, admin.id)
        used = flaggers.designate(session, boss, "ngo_watch", "NGO Watch")
        unused = flaggers.designate(session, boss, "hotline", "Hotline")
        notice = notices.submit_notice(
            session,
            runtime.services,
            location=f"/@author/{post_id}",
            category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            explanation="Incites hatred against a group; please act on it.",
            good_faith=True,
            notifier=session.get_one(User, ngo.id),
        )
        assert (notice.trusted_flagger_id, notice.priority) == (used.id, 0)
    with runtime.db.session() as session:
        boss = session.get_one(User, admin.id)
        flaggers.revoke(session, boss, used.id)
        flaggers.revoke(session, boss, unused.id)
        with pytest.raises(NotFound):
            flaggers.revoke(session, boss, used.id)  # already withdrawn
    with runtime.db.session() as session:
        assert session.get(TrustedFlagger, unused.id) is None
        withdrawn = session.get_one(TrustedFlagger, used.id)
        assert withdrawn.revoked_at is not None
        assert withdrawn.revoked_by_id == admin.id
        assert [f.name for f, _ in flaggers.listing(session)] == []
        later = notices.submit_notice(
            session,
            runtime.services,
            location=f"/@author/{post_id}",
            category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
            explanation="Another notice, sent after the withdrawal.",
            good_faith=True,
            notifier=session.get_one(User, ngo.id),
        )
        assert later.trusted_flagger_id is None
        assert later.priority > 0
        again = flaggers.designate(
            session, session.get_one(User, admin.id), "ngo_watch", "NGO Watch"
        )
        assert (again.id, again.active) == (used.id, True)


def test_the_desk_shows_the_designation_form_to_admins_only(
    client: TestClient, runtime: Runtime, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("boss", role=Role.ADMIN)
    make_user("mod", role=Role.MODERATOR)
    make_user("ngo_watch")
    login(client, "mod")
    assert 'action="/moderation/flaggers"' not in client.get("/moderation").text
    refused = form_post(
        client, "/moderation/flaggers", {"name": "NGO", "username": "ngo_watch"}, "/moderation"
    )
    assert refused.status_code == 403
    login(client, "boss")
    done = form_post(
        client,
        "/moderation/flaggers",
        {"name": "NGO Watch", "username": "ngo_watch"},
        "/moderation",
    )
    assert done.status_code == 303
    desk = client.get("/moderation").text
    assert 'NGO Watch — <a href="/@ngo_watch">@ngo_watch</a>' in desk
    flagger_id = desk.split('action="/moderation/flaggers/')[1].split("/remove")[0]
    withdrawn = form_post(client, f"/moderation/flaggers/{flagger_id}/remove", page="/moderation")
    assert withdrawn.status_code == 303
    assert "No trusted flaggers yet." in client.get("/moderation").text
