"""Moderation lists over the API: moderators with admin scopes add and remove entries citing a
rule and get the proposals back; members and tokens without the scope are refused."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.moderation import publication
from parvis.runtime import Runtime
from tests.api.conftest import Headers, TokenFor, post_status, register_app
from tests.conftest import PASSWORD, MakeUser

ADMIN_SCOPES = "read write follow admin:read admin:write"


def admin_token(client: TestClient, make_user: MakeUser, name: str, role: Role) -> Headers:
    """A token with admin scopes from an app registered for them."""
    make_user(name, role=role)
    app = register_app(client, scopes=ADMIN_SCOPES)
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{name}@example.org",
            "password": PASSWORD,
            "scope": ADMIN_SCOPES,
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_moderator_lists_a_domain_and_the_posts_carrying_it_are_proposed(
    client: TestClient, runtime: Runtime, token_for: TokenFor, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    member = token_for("member")
    post = post_status(client, member, "read https://leaks.example/file")
    moderator = admin_token(client, make_user, "mod_one", Role.MODERATOR)
    added = client.post(
        "/api/parvis/v1/lists/hacked-materials",
        json={"kind": "domain", "value": "leaks.example", "rule_id": "hacked-materials"},
        headers=moderator,
    )
    assert added.status_code == 200, added.text
    entry = added.json()
    assert (entry["kind"], entry["value"], entry["rule_id"]) == (
        "domain",
        "leaks.example",
        "hacked-materials",
    )
    assert len(entry["proposed_decision_ids"]) == 2  # block the domain; warn on the post
    listed = client.get("/api/parvis/v1/lists/hacked-materials", headers=moderator).json()
    assert [e["id"] for e in listed] == [entry["id"]]
    assert post["id"]

    removed = client.delete(
        f"/api/parvis/v1/lists/hacked-materials/{entry['id']}", headers=moderator
    )
    assert removed.status_code == 200
    assert client.get("/api/parvis/v1/lists/hacked-materials", headers=moderator).json() == []


def test_lists_refuse_members_missing_scopes_and_bad_entries(
    client: TestClient, runtime: Runtime, token_for: TokenFor, make_user: MakeUser
) -> None:
    with runtime.db.session() as session:
        publication.ensure_default(session)
    member = admin_token(client, make_user, "member", Role.MEMBER)
    refused = client.get("/api/parvis/v1/lists/watched-words", headers=member)
    assert refused.status_code == 403
    no_scope = token_for("mod_one", role=Role.MODERATOR)
    assert client.get("/api/parvis/v1/lists/watched-words", headers=no_scope).status_code == 403
    moderator = admin_token(client, make_user, "mod_two", Role.MODERATOR)
    wrong_kind = client.post(
        "/api/parvis/v1/lists/watched-words",
        data={"kind": "url", "value": "https://x.example", "rule_id": "harassment"},
        headers=moderator,
    )
    assert wrong_kind.status_code == 422
    assert "watched-words list holds: word" in wrong_kind.json()["error"]
    unknown = client.get("/api/parvis/v1/lists/nope", headers=moderator)
    assert unknown.status_code == 404
    missing = client.post("/api/parvis/v1/lists/watched-words", data={}, headers=moderator)
    assert missing.status_code == 422
    ok = client.post(
        "/api/parvis/v1/lists/watched-words",
        data={"kind": "word", "value": "vermin", "rule_id": "harassment"},
        headers=moderator,
    )
    assert ok.json()["proposed_decision_ids"] == []
