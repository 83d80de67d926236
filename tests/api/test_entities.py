"""Entity contracts: responses carry exactly the typed shapes, which hold Mastodon's fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from parvis.api import entities
from parvis.api.admin_entities import AdminAccount, AdminReport, Rule
from parvis.api.filters import Filter, FilterKeyword, V1Filter
from parvis.api.instance import ConfigurationV2, Instance, V1Instance
from parvis.api.reports import Report
from tests.api.conftest import TokenFor, my_id, post_status

# Attribute names from docs.joinmastodon.org/entities (non-optional ones).
MASTODON: dict[str, tuple[Any, set[str]]] = {
    "Account": (entities.Account, {
        "id", "username", "acct", "url", "display_name", "note", "avatar", "avatar_static",
        "header", "header_static", "locked", "fields", "emojis", "bot", "group",
        "discoverable", "created_at", "last_status_at", "statuses_count", "followers_count",
        "following_count",
    }),
    "Status": (entities.Status, {
        "id", "uri", "created_at", "account", "content", "visibility", "sensitive",
        "spoiler_text", "media_attachments", "mentions", "tags", "emojis", "reblogs_count",
        "favourites_count", "replies_count", "url", "in_reply_to_id", "in_reply_to_account_id",
        "reblog", "poll", "card", "language", "text", "edited_at", "application",
    }),
    "StatusEdit": (entities.StatusEdit, {
        "content", "spoiler_text", "sensitive", "created_at", "account", "media_attachments",
        "emojis",
    }),
    "Context": (entities.Context, {"ancestors", "descendants"}),
    "Relationship": (entities.Relationship, {
        "id", "following", "showing_reblogs", "notifying", "followed_by", "blocking",
        "blocked_by", "muting", "muting_notifications", "requested", "requested_by",
        "domain_blocking", "endorsed", "note", "languages",
    }),
    "Notification": (entities.Notification, {"id", "type", "created_at", "account", "status"}),
    "MediaAttachment": (entities.MediaAttachment, {
        "id", "type", "url", "preview_url", "remote_url", "meta", "description", "blurhash",
    }),
    "Token": (entities.Token, {"access_token", "token_type", "scope", "created_at"}),
    "Application": (entities.Application, {"name", "website", "scopes", "redirect_uris"}),
    "Error": (entities.Error, {"error"}),
    "Report": (Report, {
        "id", "action_taken", "action_taken_at", "category", "comment", "forwarded",
        "created_at", "status_ids", "rule_ids", "target_account",
    }),
    "Admin::Account": (AdminAccount, {
        "id", "username", "domain", "created_at", "email", "ip", "ips", "locale",
        "invite_request", "role", "confirmed", "approved", "disabled", "silenced", "suspended",
        "account",
    }),
    "Admin::Report": (AdminReport, {
        "id", "action_taken", "action_taken_at", "category", "comment", "forwarded",
        "created_at", "updated_at", "account", "target_account", "assigned_account",
        "action_taken_by_account", "statuses", "rules",
    }),
    "Rule": (Rule, {"id", "text", "hint"}),
    "Instance": (Instance, {
        "domain", "title", "version", "source_url", "description", "usage", "thumbnail",
        "languages", "configuration", "registrations", "contact", "rules",
    }),
    "V1::Instance": (V1Instance, {
        "uri", "title", "short_description", "description", "email", "version", "urls",
        "stats", "thumbnail", "languages", "registrations", "approval_required",
        "invites_enabled", "configuration", "contact_account", "rules",
    }),
    "Filter": (Filter, {
        "id", "title", "context", "expires_at", "filter_action", "keywords", "statuses",
    }),
    "FilterKeyword": (FilterKeyword, {"id", "keyword", "whole_word"}),
    "V1::Filter": (V1Filter, {
        "id", "phrase", "context", "whole_word", "expires_at", "irreversible",
    }),
}  # fmt: skip
# Nested hashes of the Instance entities (docs.joinmastodon.org/entities/Instance).
INSTANCE_CONFIGURATION = {
    "urls", "accounts", "statuses", "media_attachments", "polls", "translation",
}  # fmt: skip


def _keys(shape: Any) -> set[str]:
    return set(shape.__required_keys__) | set(shape.__optional_keys__)


def _fits(entity: dict[str, Any], shape: Any) -> bool:
    """Every required key, and no key the shape does not name (optional ones may be absent:
    an Account's `suspended` is there only while a decision suspends it)."""
    # `from __future__ import annotations` leaves NotRequired in strings that TypedDict does not
    # read, so `__required_keys__` names every key; the annotations still say which are optional.
    required = {
        key
        for key, annotation in shape.__annotations__.items()
        if not getattr(annotation, "__forward_arg__", str(annotation)).startswith("NotRequired[")
    }
    return required <= entity.keys() <= _keys(shape)


def test_typed_shapes_hold_mastodon_fields() -> None:
    for name, (shape, fields) in MASTODON.items():
        missing = fields - _keys(shape)
        assert not missing, f"{name} lacks {missing}"
    assert not INSTANCE_CONFIGURATION - _keys(ConfigurationV2)


def test_responses_match_their_shapes(client: TestClient, token_for: TokenFor) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    status = post_status(client, bob, "hi @ana #shapes")
    assert status.keys() == _keys(entities.Status)
    assert _fits(status["account"], entities.Account)
    assert status["parvis"].keys() == _keys(entities.StatusExtras)
    assert status["mentions"][0].keys() == _keys(entities.Mention)
    me = client.get("/api/v1/accounts/verify_credentials", headers=ana).json()
    assert _fits(me, entities.CredentialAccount)
    rel = client.post(f"/api/v1/accounts/{my_id(client, bob)}/follow", headers=ana).json()
    assert rel.keys() == _keys(entities.Relationship)
    notification = client.get("/api/v1/notifications", headers=ana).json()[0]
    assert notification.keys() == _keys(entities.Notification)
    context = client.get(f"/api/v1/statuses/{status['id']}/context").json()
    assert context.keys() == _keys(entities.Context)
    edit = client.get(f"/api/v1/statuses/{status['id']}/history").json()[0]
    assert edit.keys() == _keys(entities.StatusEdit)
    assert client.get("/api/v2/search?q=x").json().keys() == _keys(entities.Search)


def test_field_types_follow_mastodon(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana")
    status = post_status(client, ana, "typed")
    assert isinstance(status["id"], str)
    assert isinstance(status["account"]["id"], str)
    assert status["emojis"] == []
    assert status["account"]["created_at"].endswith("T00:00:00.000Z")
    assert len(status["account"]["last_status_at"]) == len("2026-01-01")
    datetime.strptime(status["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_iso_and_note_helpers() -> None:
    assert entities.iso(None) is None
    moment = datetime(2026, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC)
    assert entities.iso(moment) == "2026-03-04T05:06:07.891Z"
    assert entities.note_html("") == ""
    assert entities.note_html("a <b>\r\nline\n\n\nnext") == "<p>a &lt;b&gt;<br>line</p><p>next</p>"


def test_discovery_and_error_responses_match_their_shapes(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    v1 = client.get("/api/v1/instance").json()
    assert v1.keys() == _keys(V1Instance)
    v2 = client.get("/api/v2/instance").json()
    assert v2.keys() == _keys(Instance)
    assert v2["configuration"].keys() == _keys(ConfigurationV2)
    assert v2["rules"][0].keys() == _keys(Rule)
    for response in (
        client.get("/api/v1/statuses/999"),
        client.get("/api/v1/timelines/home"),
        client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer wrong"}),
        client.post("/api/v1/statuses", data={"status": "x"}, headers=token_for("reader", "read")),
    ):
        assert response.status_code in (401, 403, 404)
        assert response.json().keys() == {"error"}
