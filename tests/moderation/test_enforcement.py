"""Decisions take effect everywhere a post appears: feeds, search, pages, the API, quotes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.audit.models import LogLeaf
from parvis.config import Settings
from parvis.errors import NotFound, PermissionDenied
from parvis.moderation import decisions, expiry, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Automation,
    Decision,
    Source,
    SubjectType,
)
from parvis.runtime import Runtime
from parvis.social import feeds, graph, media, posts, search
from parvis.social.feeds import PageQuery
from parvis.social.models import Notification, Post
from parvis.social.posts import PostDraft
from parvis.social.visibility import load_viewer
from tests.conftest import MakeUser, outbox_messages
from tests.moderation.conftest import HARASSMENT
from tests.pdfs import make_pdf
from tests.web.conftest import form_post, login


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


def _restrict(runtime: Runtime, member_id: int, feature: str, days: int) -> Decision:
    """Restrict one feature of an account for some days."""
    return _decide(
        runtime,
        SubjectType.ACCOUNT,
        str(member_id),
        Action.RESTRICT_ACCOUNT,
        features=(feature,),
        duration=timedelta(days=days),
    )


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
    _restrict(runtime, member.id, "links", 3)
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


# Every post-level action on every surface where a post appears: pages (the post, its thread,
# public, home, profile, tag, search, a quote embedding it, notifications) and the API (the
# status, a reply's context, the public, home and tag timelines, the account's statuses, search,
# a quote embedding it, notifications).

PAGE_SURFACES = ("post", "thread", "public", "home", "profile", "tag", "search", "quote", "notes")
API_SURFACES = ("status", "context", "public", "home", "tag", "account", "search", "quote", "notes")
# What each action shows: "label", "warning" (interstitial), "plain", "absent" or "tombstone";
# the notifications page lists a post as a link with an "excerpt" of its text, or "plain" (the
# link without the text).
SEEN: dict[Action, dict[str, str]] = {
    Action.LABEL: dict.fromkeys(PAGE_SURFACES, "label") | {"notes": "excerpt"},
    Action.INTERSTITIAL: dict.fromkeys(PAGE_SURFACES, "warning") | {"notes": "plain"},
    Action.DEMOTE: {
        s: "absent" if s in ("public", "tag", "search") else "plain" for s in PAGE_SURFACES
    }
    | {"notes": "excerpt"},
    Action.REMOVE: {
        s: "tombstone" if s in ("post", "thread", "quote") else "absent" for s in PAGE_SURFACES
    },
}
SEEN_API: dict[Action, dict[str, str]] = {
    Action.LABEL: dict.fromkeys(API_SURFACES, "label"),
    Action.INTERSTITIAL: dict.fromkeys(API_SURFACES, "warning"),
    Action.DEMOTE: {
        s: "absent" if s in ("public", "tag", "search") else "plain" for s in API_SURFACES
    },
    Action.REMOVE: {s: "tombstone" if s in ("status", "quote") else "absent" for s in API_SURFACES},
}
POST_ACTIONS = [Action.LABEL, Action.INTERSTITIAL, Action.DEMOTE, Action.REMOVE]
TokenFor = Callable[..., dict[str, str]]


def _card(html: str, post_id: int, *, quoted: bool, notes: bool) -> str | None:
    """The part of a page that shows the post (None when the page does not show it)."""
    if notes:
        link = html.find(f'/{post_id}">')
        return None if link == -1 else html[link : link + 200]
    if quoted:
        embed = html.find('<blockquote class="quote')
        return None if embed == -1 else html[embed : html.find("</blockquote>", embed)]
    start = html.find(f'id="post-{post_id}"')
    return None if start == -1 else html[start : html.find("</article>", start)]


def _page_state(html: str, post_id: int, *, quoted: bool = False, notes: bool = False) -> str:
    card = _card(html, post_id, quoted=quoted, notes=notes)
    if card is None:
        return "tombstone" if "removed under the rule" in html else "absent"
    if notes:
        return "excerpt" if "Meeting about the" in card else "plain"
    if 'class="tombstone"' in card or "quoted post is unavailable" in card:
        return "tombstone"
    if 'class="interstitial"' in card:
        return "warning"
    return "label" if "Labelled under the rule" in card else "plain"


def _api_state(status: dict[str, Any] | None) -> str:
    if status is None:
        return "absent"
    moderation = status["parvis"]["moderation"]
    if moderation is None:
        return "plain"
    if status["sensitive"] and "Warning under the rule" in status["spoiler_text"]:
        return "warning"
    return "label" if moderation["action"] == "label" else "plain"


def _find(statuses: list[dict[str, Any]], post_id: int) -> dict[str, Any] | None:
    return next((s for s in statuses if s["id"] == str(post_id)), None)


def _surfaces(
    action: Action, runtime: Runtime, client: TestClient, token_for: TokenFor
) -> tuple[dict[str, str], dict[str, str]]:
    """What pages and the API show of a post restricted by `action`, surface by surface, to a
    follower who replied to it, quoted it and was mentioned in it."""
    author_token, reader_token = token_for("author"), token_for("reader")
    with runtime.db.session() as session:
        author = session.scalars(select(User).where(User.username == "author")).one()
        reader = session.scalars(select(User).where(User.username == "reader")).one()
        graph.follow(session, reader, author)
    created = client.post(
        "/api/v1/statuses",
        data={"status": "Meeting about the #town square, @reader"},
        headers=author_token,
    )
    post_id = int(created.json()["id"])
    reply = _write(runtime, reader, "I will be there", in_reply_to_id=post_id)
    quote = _write(runtime, reader, "Worth a look", quote_of_id=post_id)
    decision = _decide(runtime, SubjectType.POST, str(post_id), action)

    login(client, "reader")
    pages = {
        "post": f"/@author/{post_id}",
        "thread": f"/@reader/{reply}",
        "public": "/public",
        "home": "/",
        "profile": "/@author",
        "tag": "/tags/town",
        "search": "/search?q=town",
        "quote": f"/@reader/{quote}",
        "notes": "/notifications",
    }
    seen = {}
    for surface, path in pages.items():
        response = client.get(path)
        assert response.status_code in (200, 404), (surface, response.status_code)
        seen[surface] = _page_state(
            response.text, post_id, quoted=surface == "quote", notes=surface == "notes"
        )
        if seen[surface] == "tombstone" and surface != "quote":
            assert f"decision {decision.id}" in response.text, surface

    def api(path: str) -> Any:
        response = client.get(path, headers=reader_token)
        return response.json() if response.status_code == 200 else None

    quoting = api(f"/api/v1/statuses/{quote}")
    statuses = {
        "status": api(f"/api/v1/statuses/{post_id}"),
        "context": _find(api(f"/api/v1/statuses/{reply}/context")["ancestors"], post_id),
        "public": _find(api("/api/v1/timelines/public"), post_id),
        "home": _find(api("/api/v1/timelines/home"), post_id),
        "tag": _find(api("/api/v1/timelines/tag/town"), post_id),
        "account": _find(api(f"/api/v1/accounts/{author.id}/statuses"), post_id),
        "search": _find(api("/api/v2/search?q=town&type=statuses")["statuses"], post_id),
        "quote": quoting["parvis"]["quote"],
        "notes": next(
            (
                n["status"]
                for n in api("/api/v1/notifications")
                if n["status"] and n["status"]["id"] == str(post_id)
            ),
            None,
        ),
    }
    seen_api = {surface: _api_state(found) for surface, found in statuses.items()}
    if action == Action.REMOVE:  # the status itself is a 404 naming the rule; the quote says so
        missing = client.get(f"/api/v1/statuses/{post_id}", headers=reader_token)
        assert missing.status_code == 404
        assert "harassment" in missing.json()["error"]
        if quoting["parvis"]["quote_unavailable"]:
            seen_api["quote"] = "tombstone"
        seen_api["status"] = "tombstone"
    return seen, seen_api


@pytest.mark.parametrize("action", POST_ACTIONS)
def test_each_post_action_on_every_surface(
    action: Action, runtime: Runtime, client: TestClient, token_for: TokenFor
) -> None:
    seen, seen_api = _surfaces(action, runtime, client, token_for)
    assert seen == SEEN[action]
    assert seen_api == SEEN_API[action]


# Blocking a link's sharing: refused in new posts and edits on the web and the API, disabled
# (text kept) in existing posts on pages, in the API and in quotes.

LEAK = "https://leaks.example/file.pdf"


def test_a_blocked_link_is_refused_and_disabled_everywhere(
    runtime: Runtime, client: TestClient, token_for: TokenFor
) -> None:
    author_token, reader_token = token_for("author"), token_for("reader")
    with runtime.db.session() as session:
        author = session.scalars(select(User).where(User.username == "author")).one()
        reader = session.scalars(select(User).where(User.username == "reader")).one()
    old = _write(runtime, author, f"the file is at {LEAK} for now")
    quote = _write(runtime, reader, "see this", quote_of_id=old)
    editable = _write(runtime, author, "nothing to see yet")
    decision = _decide(runtime, SubjectType.URL, LEAK, Action.BLOCK_URL)
    named = f"under the rule 'harassment' (decision {decision.id})"

    refused = client.post(
        "/api/v1/statuses", data={"status": f"again {LEAK}"}, headers=author_token
    )
    assert refused.status_code == 403
    assert named in refused.json()["error"]
    edited = client.put(
        f"/api/v1/statuses/{editable}", data={"status": f"now {LEAK}"}, headers=author_token
    )
    assert edited.status_code == 403
    login(client, "author")
    assert form_post(client, "/compose", {"body": f"again {LEAK}"}).status_code == 403
    web_edit = form_post(
        client, f"/posts/{editable}/edit", {"body": f"now {LEAK}"}, page=f"/posts/{editable}/edit"
    )
    assert web_edit.status_code == 403
    assert named in unescape(web_edit.text)

    disabled = f"Link disabled under the rule 'harassment' (decision {decision.id})"
    for path in (f"/@author/{old}", "/public", "/@author", f"/@reader/{quote}"):
        page = unescape(client.get(path).text)
        assert "the file is at" in page, path
        assert disabled in page, path
        assert f'href="{LEAK}"' not in page, path
    for status in (
        client.get(f"/api/v1/statuses/{old}", headers=reader_token).json(),
        client.get(f"/api/v1/statuses/{quote}", headers=reader_token).json()["parvis"]["quote"],
    ):
        assert "the file is at" in status["content"]
        assert "[link disabled: harassment]" in status["content"]
        assert f'href="{LEAK}"' not in status["content"]


def test_a_refused_link_quotes_the_rules_public_text(
    runtime: Runtime, client: TestClient, token_for: TokenFor
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    _decide(runtime, SubjectType.URL, LEAK, Action.BLOCK_URL)
    refused = client.post(
        "/api/v1/statuses", data={"status": f"again {LEAK}"}, headers=token_for("author")
    )
    assert refused.status_code == 403
    assert "Do not target a person with repeated abuse" in refused.json()["error"]


# Account actions: each restricted feature is refused on the web and over the API while the
# others stay; suspension and termination stop every kind of writing; temporary ones end by
# themselves, the end recorded as a decision and told to the member.


def _api_post(client: TestClient, headers: dict[str, str], **data: str) -> int:
    return client.post("/api/v1/statuses", data=data, headers=headers).status_code


@pytest.mark.parametrize("feature", ["links", "posting", "replies", "media", "notices"])
def test_each_restricted_feature_is_refused_and_only_it(
    feature: str, runtime: Runtime, client: TestClient, token_for: TokenFor
) -> None:
    member = token_for("member")
    other = token_for("other")
    target = str(_api_post_id(client, other, "a post to answer"))
    with runtime.db.session() as session:
        member_id = session.scalars(select(User.id).where(User.username == "member")).one()
        me = session.get_one(User, member_id)
        upload = media.store_upload(
            session, runtime.settings, me, filename="notes.pdf", data=make_pdf([["Notes"]])
        )
        upload_id = str(upload.id)
    _restrict(runtime, member_id, feature, 3)
    attempts = {
        "links": {"status": "see https://example.org/page"},
        "posting": {"status": "just words"},
        "replies": {"status": "an answer", "in_reply_to_id": target},
        "media": {"status": "with a file", "media_ids[]": upload_id},
    }
    for tried, data in attempts.items():
        expected = 403 if tried == feature or feature == "posting" else 200
        assert _api_post(client, member, **data) == expected, (feature, tried)
    notice = client.post(
        "/api/v1/reports",
        data={
            "account_id": _account_of(client, other),
            "status_ids[]": target,
            "category": "other",
            "comment": "This post looks like spam to me, please check.",
        },
        headers=member,
    )
    assert notice.status_code == (403 if feature == "notices" else 200), notice.text
    login(client, "member")
    page = form_post(client, "/compose", {"body": "see https://example.org/web"})
    assert page.status_code == (403 if feature in ("links", "posting") else 303)
    if page.status_code == 403:
        assert "restricted on your account until" in unescape(page.text)


def _api_post_id(client: TestClient, headers: dict[str, str], text: str) -> int:
    response = client.post("/api/v1/statuses", data={"status": text}, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _account_of(client: TestClient, headers: dict[str, str]) -> str:
    account_id: str = client.get("/api/v1/accounts/verify_credentials", headers=headers).json()[
        "id"
    ]
    return account_id


@pytest.mark.parametrize(
    ("action", "word"), [(Action.SUSPEND, "suspended"), (Action.TERMINATE, "terminated")]
)
def test_suspension_and_termination_stop_every_kind_of_writing(
    action: Action, word: str, runtime: Runtime, client: TestClient, token_for: TokenFor
) -> None:
    member = token_for("member")
    own = _api_post_id(client, member, "written before")
    other = _api_post_id(client, token_for("other"), "someone else's post")
    with runtime.db.session() as session:
        member_id = session.scalars(select(User.id).where(User.username == "member")).one()
    _decide(
        runtime,
        SubjectType.ACCOUNT,
        str(member_id),
        action,
        duration=timedelta(days=7) if action == Action.SUSPEND else None,
    )
    refused = [
        client.post("/api/v1/statuses", data={"status": "hello"}, headers=member),
        client.post(
            "/api/v1/statuses", data={"status": "hi", "in_reply_to_id": str(other)}, headers=member
        ),
        client.put(f"/api/v1/statuses/{own}", data={"status": "changed"}, headers=member),
        client.post(f"/api/v1/statuses/{other}/reblog", headers=member),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert f"Your account is {word}" in response.json()["error"]
    login(client, "member")
    page = form_post(client, "/compose", {"body": "hello from the web"})
    assert page.status_code == 403
    assert f"Your account is {word}" in page.text


def test_a_temporary_suspension_ends_by_itself_and_the_end_is_recorded(
    runtime: Runtime, settings: Settings, client: TestClient, token_for: TokenFor
) -> None:
    member = token_for("member")
    with runtime.db.session() as session:
        member_id = session.scalars(select(User.id).where(User.username == "member")).one()
    suspension = _decide(
        runtime, SubjectType.ACCOUNT, str(member_id), Action.SUSPEND, duration=timedelta(days=7)
    )
    assert _api_post(client, member, status="still suspended") == 403
    assert suspension.ends_at is not None
    assert (
        expiry.expire(runtime.db, runtime.services, suspension.ends_at - timedelta(hours=1)) == []
    )
    (ended,) = expiry.expire(
        runtime.db, runtime.services, suspension.ends_at + timedelta(seconds=1)
    )
    assert _api_post(client, member, status="back again") == 200
    with runtime.db.session() as session:
        record = session.get_one(Decision, ended)
        assert (record.action, record.supersedes_id, record.state) == (
            "restore",
            suspension.id,
            "in_effect",
        )
        assert session.get_one(Decision, suspension.id).state == "expired"
        assert session.get(AccountRestriction, member_id) is None
        leaf = session.scalar(select(LogLeaf).where(LogLeaf.ref == f"decision:{ended}"))
        assert leaf is not None
    mail = outbox_messages(settings)[-1]
    assert "member@example.org" in mail
    assert f"Decision {ended}: an earlier restriction was lifted." in mail


@pytest.mark.parametrize(
    ("action", "state", "reason"),
    [
        (Action.TERMINATE, "terminated", "account was terminated"),
        (Action.SUSPEND, "suspended", "account is suspended until"),
    ],
)
def test_a_suspended_or_terminated_account_leaves_public_view(
    action: Action,
    state: str,
    reason: str,
    runtime: Runtime,
    client: TestClient,
    make_user: MakeUser,
) -> None:
    member, other = make_user("member"), make_user("other")
    post_id = _write(runtime, member, "about the #town square")
    thread = _write(runtime, other, "a conversation")
    _write(runtime, member, "my reply, soon gone", in_reply_to_id=thread)
    quote = _write(runtime, other, "quoting the member", quote_of_id=post_id)
    with runtime.db.session() as session:
        reposted = posts.repost(session, session.get_one(User, other.id), post_id).id
        graph.follow(session, session.get_one(User, member.id), session.get_one(User, other.id))
    assert "my reply, soon gone" in client.get(f"/@other/{thread}").text
    decision = _decide(
        runtime,
        SubjectType.ACCOUNT,
        str(member.id),
        action,
        duration=timedelta(days=7) if action == Action.SUSPEND else None,
    )
    # Its replies leave other members' threads too.
    assert "my reply, soon gone" not in client.get(f"/@other/{thread}").text
    profile = client.get("/@member").text
    assert f"This account is {state}" in profile
    assert f'href="/statements/{decision.id}"' in profile
    assert "about the #town square" not in profile
    public = {s["id"] for s in client.get("/api/v1/timelines/public").json()}
    assert str(post_id) not in public
    assert str(reposted) not in public  # another member's repost of it goes too
    assert f'id="post-{post_id}"' not in client.get("/search?q=town").text
    # Quotes of it show it unavailable; its follow is no longer news.
    with runtime.db.session() as session:
        viewer = load_viewer(session, other.id)
        from parvis.social.notifications import is_shown, list_notifications
        from parvis.social.views import build_view

        quoting = build_view(session, viewer, session.get_one(Post, quote))
        assert quoting.quote is None
        assert quoting.quote_unavailable
        assert not [n for n in list_notifications(session, viewer) if n.actor_id == member.id]
        followed = session.scalars(  # the streaming API asks one notification at a time
            select(Notification).where(
                Notification.user_id == other.id, Notification.actor_id == member.id
            )
        ).all()
        assert followed
        assert not any(is_shown(session, viewer, n) for n in followed)
    # Nor by link: the post's page, the API's status and the repost say why.
    page = client.get(f"/@member/{post_id}")
    assert page.status_code == 404
    assert reason in unescape(page.text)
    for shown in (post_id, reposted):
        status = client.get(f"/api/v1/statuses/{shown}")
        assert status.status_code == 404
        assert reason in status.json()["error"]
        assert f"decision {decision.id}" in status.json()["error"]
    account = client.get(f"/api/v1/accounts/{member.id}").json()
    assert account["suspended"] is True
    assert client.get("/api/v1/accounts/lookup?acct=member").json()["suspended"] is True
    assert "suspended" not in client.get(f"/api/v1/accounts/{other.id}").json()
    if action == Action.SUSPEND:  # back in view once the suspension ends
        assert decision.ends_at is not None
        expiry.expire(runtime.db, runtime.services, decision.ends_at + timedelta(seconds=1))
        assert client.get(f"/@member/{post_id}").status_code == 200
        assert str(post_id) in {s["id"] for s in client.get("/api/v1/timelines/public").json()}
        assert "suspended" not in client.get(f"/api/v1/accounts/{member.id}").json()


# Several decisions in force on one subject: the strongest holds, the others wait their turn.


def test_a_posting_restriction_outlives_a_shorter_suspension(
    runtime: Runtime, make_user: MakeUser
) -> None:
    member = make_user("member")
    restriction = _restrict(runtime, member.id, "links", 3)
    suspension = _decide(
        runtime, SubjectType.ACCOUNT, str(member.id), Action.SUSPEND, duration=timedelta(days=1)
    )
    assert suspension.ends_at is not None
    with runtime.db.session() as session:
        decisions.expire_due(session, suspension.ends_at + timedelta(seconds=1))
        current = session.get_one(AccountRestriction, member.id)
        assert (current.action, current.decision_id) == ("restrict_account", restriction.id)
    with pytest.raises(PermissionDenied, match="links is restricted"):
        _write(runtime, member, "see https://example.org")
    assert _write(runtime, member, "words are fine again")


def test_feature_restrictions_in_force_together_combine_and_end_one_by_one(
    runtime: Runtime, make_user: MakeUser
) -> None:
    member = make_user("member")
    links = _restrict(runtime, member.id, "links", 7)
    replies = _restrict(runtime, member.id, "replies", 3)
    with pytest.raises(PermissionDenied, match="links is restricted"):
        _write(runtime, member, "see https://example.org")
    first = _write(runtime, member, "a post of mine")
    with pytest.raises(PermissionDenied, match="Replying is restricted"):
        _write(runtime, member, "a reply", in_reply_to_id=first)
    assert replies.ends_at is not None
    assert links.ends_at is not None
    with runtime.db.session() as session:  # the shorter one ends; the other stays whole
        decisions.expire_due(session, replies.ends_at + timedelta(seconds=1))
        current = session.get_one(AccountRestriction, member.id)
        assert (current.features, current.decision_id) == ("links", links.id)
    assert _write(runtime, member, "a reply at last", in_reply_to_id=first)
    with pytest.raises(PermissionDenied, match="links is restricted"):
        _write(runtime, member, "see https://example.org")
    with runtime.db.session() as session:
        decisions.expire_due(session, links.ends_at + timedelta(seconds=1))
        assert session.get(AccountRestriction, member.id) is None


def test_a_narrower_decision_does_not_undo_a_stronger_one(
    runtime: Runtime, make_user: MakeUser, client: TestClient
) -> None:
    author = make_user("author")
    moderator = make_user("mod", role=Role.MODERATOR)
    post_id = _write(runtime, author, "a post")
    label = _decide(runtime, SubjectType.POST, str(post_id), Action.LABEL)
    removal = _decide(runtime, SubjectType.POST, str(post_id), Action.REMOVE)
    _decide(runtime, SubjectType.POST, str(post_id), Action.INTERSTITIAL)
    assert client.get(f"/api/v1/statuses/{post_id}").status_code == 404  # still removed
    _decide(
        runtime,
        SubjectType.POST,
        str(post_id),
        Action.RESTORE,
        supersedes_id=removal.id,
        automated_decision=Automation.NOT_AUTOMATED,
        decided_by_id=moderator.id,
    )
    status = client.get(f"/api/v1/statuses/{post_id}").json()
    assert status["parvis"]["moderation"]["action"] == "interstitial"  # the next strongest
    with runtime.db.session() as session:
        assert session.get_one(Decision, label.id).state == "in_effect"
