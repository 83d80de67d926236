"""/api/v1/admin/accounts: moderation actions are decisions citing a rule."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.config import Settings
from tests.api.conftest import TokenFor, my_id, post_status
from tests.api.test_admin_reports import ADMIN_SCOPES, report
from tests.conftest import outbox_messages


def test_action_without_a_rule_is_refused(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    bob = token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    response = client.post(
        f"/api/v1/admin/accounts/{my_id(client, bob)}/action",
        data={"type": "suspend", "text": "bad"},
        headers=mod,
    )
    assert response.status_code == 422
    assert "requires a rule" in response.json()["error"]
    unknown = client.post(
        f"/api/v1/admin/accounts/{my_id(client, bob)}/action",
        data={"type": "suspend", "rule_id": "no-such-rule"},
        headers=mod,
    )
    assert unknown.status_code == 422
    assert "no-such-rule" in unknown.json()["error"]
    sensitive = client.post(
        f"/api/v1/admin/accounts/{my_id(client, bob)}/action",
        data={"type": "sensitive", "rule_id": "harassment"},
        headers=mod,
    )
    assert sensitive.status_code == 422


def test_suspend_with_rule_is_a_decision_that_stops_posting(
    client: TestClient, token_for: TokenFor, rulebook: None, settings: Settings
) -> None:
    bob = token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    bob_id = my_id(client, bob)
    response = client.post(
        f"/api/v1/admin/accounts/{bob_id}/action",
        data={"type": "suspend", "rule_id": "impersonation", "text": "Poses as the mayor."},
        headers=mod,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {}
    account = client.get(f"/api/v1/admin/accounts/{bob_id}", headers=mod).json()
    assert account["suspended"] is True
    assert account["silenced"] is False
    assert account["parvis"]["restriction"] == "suspend"
    assert account["parvis"]["restriction_ends_at"] is not None  # the rule's 7 days
    decision_id = account["parvis"]["decision_id"]
    statement = client.get(f"/statements/{decision_id}")
    assert statement.status_code == 200
    assert "impersonation" in statement.text
    assert client.post("/api/v1/statuses", data={"status": "hi"}, headers=bob).status_code == 403
    assert any("Poses as the mayor." in m for m in outbox_messages(settings))
    suspended = client.get("/api/v1/admin/accounts?suspended=true", headers=mod).json()
    assert [a["username"] for a in suspended] == ["bob"]
    lifted = client.post(f"/api/v1/admin/accounts/{bob_id}/unsuspend", headers=mod).json()
    assert lifted["suspended"] is False
    assert client.post("/api/v1/statuses", data={"status": "hi"}, headers=bob).status_code == 200


def test_action_on_a_report_takes_its_rule_and_resolves_it(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    bob_id = my_id(client, bob)
    post_status(client, bob, "spam spam spam")
    filed = report(client, ana, bob_id, **{"rule_ids[]": "spam-flooding"})
    response = client.post(
        f"/api/v1/admin/accounts/{bob_id}/action",
        data={"type": "silence", "report_id": filed["id"]},
        headers=mod,
    )
    assert response.status_code == 200, response.text
    account = client.get(f"/api/v1/admin/accounts/{bob_id}", headers=mod).json()
    assert account["silenced"] is True
    assert account["parvis"]["restriction_features"] == ["posting"]
    resolved = client.get(f"/api/v1/admin/reports/{filed['id']}", headers=mod).json()
    assert resolved["action_taken"] is True
    assert resolved["parvis"]["state"] == "actioned"
    assert resolved["parvis"]["decision_id"] == account["parvis"]["decision_id"]


def test_warning_restricts_nothing(client: TestClient, token_for: TokenFor, rulebook: None) -> None:
    bob = token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    bob_id = my_id(client, bob)
    response = client.post(
        f"/api/v1/admin/accounts/{bob_id}/action",
        data={"type": "none", "rule_id": "harassment", "text": "Please stop."},
        headers=mod,
    )
    assert response.status_code == 200
    account = client.get(f"/api/v1/admin/accounts/{bob_id}", headers=mod).json()
    assert account["parvis"]["restriction"] is None
    kinds = [n["type"] for n in client.get("/api/v1/notifications", headers=bob).json()]
    assert kinds == ["moderation_warning"]


def test_account_lists_and_filters(client: TestClient, token_for: TokenFor) -> None:
    token_for("ana")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    everyone = client.get("/api/v1/admin/accounts", headers=mod).json()
    assert [a["username"] for a in everyone] == ["mia", "ana"]
    first = everyone[1]
    assert first["email"] == "ana@example.org"
    assert first["domain"] is None
    assert first["confirmed"] is True
    assert first["account"]["acct"] == "ana"
    staff = client.get("/api/v2/admin/accounts?permissions=staff", headers=mod).json()
    assert [a["username"] for a in staff] == ["mia"]
    by_name = client.get("/api/v1/admin/accounts?username=an", headers=mod).json()
    assert [a["username"] for a in by_name] == ["ana"]
    assert client.get("/api/v2/admin/accounts?origin=remote", headers=mod).json() == []
    paged = client.get("/api/v1/admin/accounts?limit=1", headers=mod)
    assert 'rel="next"' in paged.headers["link"]
    assert client.get("/api/v1/admin/accounts/999", headers=mod).status_code == 404


def test_members_cannot_act(client: TestClient, token_for: TokenFor) -> None:
    ana = token_for("ana", scope=ADMIN_SCOPES)
    response = client.post(
        "/api/v1/admin/accounts/1/action",
        data={"type": "suspend", "rule_id": "harassment"},
        headers=ana,
    )
    assert response.status_code == 403
    read_only = token_for("mia", scope="admin:read", role=Role.MODERATOR)
    response = client.post(
        "/api/v1/admin/accounts/1/action",
        data={"type": "suspend", "rule_id": "harassment"},
        headers=read_only,
    )
    assert response.status_code == 403
    assert "admin:write:accounts" in response.json()["error"]
