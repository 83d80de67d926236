"""Decisions take effect everywhere a post appears: feeds, search, pages, the API, quotes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.errors import NotFound, PermissionDenied
from parvis.moderation import decisions
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Decision, Source, SubjectType
from parvis.runtime import Runtime
from parvis.social import feeds, graph, posts, search
from parvis.social.feeds import PageQuery
from parvis.social.models import Post
from parvis.social.posts import PostDraft
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser
from tests.moderation.conftest import HARASSMENT


def _decide(
    runtime: Runtime, subject: SubjectType, key: str, action: Action, **extra: object
) -> Decision:
    values: dict[str, object] = {
        "subject_type": subject,
        "subject_key": key,
        "action": action,
        "rule": HARASSMENT,
        "facts": "Facts of the case.",
        "source": Source.OWN_INITIATIVE,
        "automated_detection": False,
        "automated_decision": Automation.FULLY,
    }
    values.update(extra)
    with runtime.db.session() as session:
        return decisions.decide(session, DecisionRequest(**values))  # type: ignore[arg-type]


def _write(runtime: Runtime, author: User, body: str, **extra: object) -> int:
    with runtime.db.session() as session:
        me = session.get_one(User, author.id)
        return posts.create_post(session, runtime.settings, me, PostDraft(body=body, **extra)).id  # type: ignore[arg-type]


def _feeds(runtime: Runtime, viewer_id: int) -> dict[str, set[int]]:
    with runtime.db.session() as session:
        viewer = load_viewer(session, viewer_id)
        page = PageQuery(limit=40)
        return {
            "home": {p.id for p in feeds.home(session, viewer, page)},
            "public": {p.id for p in feeds.public(session, viewer, page)},
            "tag": {p.id for p in feeds.tag(session, viewer, "town", page)},
            "search": {p.id for p in search.search_posts(session, viewer, "town")},
        }


@pytest.fixture
def scene(runtime: Runtime, make_user: MakeUser) -> tuple[User, User, int]:
    author, reader = make_user("author"), make_user("reader")
    with runtime.db.session() as session:
        graph.follow(session, session.get_one(User, reader.id), session.get_one(User, author.id))
    return author, reader, _write(runtime, author, "about the #town square")


def test_removed_post_disappears_everywhere_and_says_why(
    runtime: Runtime, client: TestClient, scene: tuple[User, User, int]
) -> None:
    _author, reader, post_id = scene
    quote = _write(runtime, reader, "quoting it", quote_of_id=post_id)
    _decide(runtime, SubjectType.POST, str(post_id), Action.REMOVE)
    for name, ids in _feeds(runtime, reader.id).items():
        assert post_id not in ids, name
    with runtime.db.session() as session:
        with pytest.raises(NotFound, match="removed under the rule 'harassment'"):
            posts.get_visible_post(session, load_viewer(session, reader.id), post_id)
        from parvis.social.views import build_view

        assert build_view(
            session, load_viewer(session, reader.id), session.get_one(Post, quote)
        ).quote_unavailable
    api = client.get(f"/api/v1/statuses/{post_id}")
    assert api.status_code == 404
    assert "harassment" in api.json()["error"]
    page = client.get(f"/@author/{post_id}")
    assert page.status_code == 404
    assert "removed under the rule" in page.text


def test_demoted_post_stays_for_followers_and_by_link(
    runtime: Runtime, client: TestClient, scene: tuple[User, User, int]
) -> None:
    _author, reader, post_id = scene
    _decide(runtime, SubjectType.POST, str(post_id), Action.DEMOTE)
    seen = _feeds(runtime, reader.id)
    assert post_id in seen["home"]
    assert post_id not in seen["public"] | seen["tag"] | seen["search"]
    assert client.get(f"/api/v1/statuses/{post_id}").status_code == 200


def test_interstitial_and_label_are_shown_on_pages_and_api(
    runtime: Runtime, client: TestClient, scene: tuple[User, User, int]
) -> None:
    author, _reader, post_id = scene
    other = _write(runtime, author, "second #town post")
    _decide(runtime, SubjectType.POST, str(post_id), Action.INTERSTITIAL)
    _decide(runtime, SubjectType.POST, str(other), Action.LABEL)
    page = client.get("/public").text
    assert 'class="interstitial"' in page
    assert "Labelled under the rule" in page
    status = client.get(f"/api/v1/statuses/{post_id}").json()
    assert status["sensitive"] is True
    assert "harassment" in status["spoiler_text"]
    assert status["parvis"]["moderation"]["action"] == "interstitial"


def test_blocked_link_cannot_be_posted_but_others_can(
    runtime: Runtime, make_user: MakeUser
) -> None:
    member = make_user("member")
    _decide(runtime, SubjectType.URL, "HTTPS://Leaks.Example/dossier.pdf", Action.BLOCK_URL)
    _decide(runtime, SubjectType.DOMAIN, "hacked.example", Action.BLOCK_URL)
    with pytest.raises(PermissionDenied, match="cannot be shared here"):
        _write(runtime, member, "read https://leaks.example/dossier.pdf now")
    with pytest.raises(PermissionDenied, match="harassment"):
        _write(runtime, member, "mirror at https://www.hacked.example/x")
    assert _write(runtime, member, "fine: https://leaks.example/other-page")


def test_account_restrictions_and_suspension_stop_posting(
    runtime: Runtime, make_user: MakeUser
) -> None:
    member = make_user("member")
    _decide(
        runtime,
        SubjectType.ACCOUNT,
        str(member.id),
        Action.RESTRICT_ACCOUNT,
        features=("links",),
        duration=timedelta(days=3),
    )
    with pytest.raises(PermissionDenied, match="links is restricted"):
        _write(runtime, member, "see https://example.org")
    assert _write(runtime, member, "no link, fine")
    suspension = _decide(
        runtime, SubjectType.ACCOUNT, str(member.id), Action.SUSPEND, duration=timedelta(days=7)
    )
    with pytest.raises(PermissionDenied, match="suspended until"):
        _write(runtime, member, "hello")
    with runtime.db.session() as session:
        assert suspension.ends_at is not None
        decisions.expire_due(session, suspension.ends_at + timedelta(seconds=1))
    assert _write(runtime, member, "back again")


def test_reversal_brings_the_post_back(
    runtime: Runtime, make_user: MakeUser, scene: tuple[User, User, int]
) -> None:
    _author, reader, post_id = scene
    moderator = make_user("mod", role=Role.MODERATOR)
    removal = _decide(runtime, SubjectType.POST, str(post_id), Action.REMOVE)
    _decide(
        runtime,
        SubjectType.POST,
        str(post_id),
        Action.RESTORE,
        supersedes_id=removal.id,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by_id=moderator.id,
    )
    assert post_id in _feeds(runtime, reader.id)["public"]


def test_existing_posts_keep_their_text_with_the_blocked_link_disabled(
    runtime: Runtime, client: TestClient, make_user: MakeUser
) -> None:
    member = make_user("member")
    post_id = _write(runtime, member, "the file is at https://leaks.example/file.pdf for now")
    _decide(runtime, SubjectType.URL, "https://leaks.example/file.pdf", Action.BLOCK_URL)
    page = client.get("/public").text
    assert "the file is at" in page
    assert 'class="link-disabled"' in page
    assert 'href="https://leaks.example/file.pdf"' not in page
    status = client.get(f"/api/v1/statuses/{post_id}").json()
    assert "link disabled: harassment" in status["content"]
