"""/api/v1/admin/reports: the report desk over notices, for moderators with admin scopes."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from tests.api.conftest import Headers, TokenFor, my_id, post_status

ADMIN_SCOPES = "read write follow admin:read admin:write"


def report(client: TestClient, headers: Headers, account_id: str, **extra: Any) -> dict[str, Any]:
    """File a report and return it."""
    response = client.post(
        "/api/v1/reports",
        data={
            "account_id": account_id,
            "comment": "This post insults and threatens another member repeatedly.",
            "category": "violation",
            "rule_ids[]": "harassment",
            **extra,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_moderator_lists_gets_and_filters_reports(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    bob_id = my_id(client, bob)
    status = post_status(client, bob, "a rude post")
    filed = report(client, ana, bob_id, **{"status_ids[]": status["id"]})
    listed = client.get("/api/v1/admin/reports", headers=mod).json()
    assert [r["id"] for r in listed] == [filed["id"]]
    one = client.get(f"/api/v1/admin/reports/{filed['id']}", headers=mod).json()
    assert one["category"] == "violation"
    assert one["account"]["username"] == "ana"
    assert one["target_account"]["username"] == "bob"
    assert one["target_account"]["account"]["acct"] == "bob"
    assert [s["id"] for s in one["statuses"]] == [status["id"]]
    assert [r["id"] for r in one["rules"]] == ["harassment"]
    assert one["action_taken"] is False
    assert one["assigned_account"] is None
    by_target = client.get(
        "/api/v1/admin/reports", params={"target_account_id": bob_id}, headers=mod
    ).json()
    assert len(by_target) == 1
    other = client.get(
        "/api/v1/admin/reports", params={"target_account_id": my_id(client, ana)}, headers=mod
    ).json()
    assert other == []
    assert client.get("/api/v1/admin/reports?resolved=true", headers=mod).json() == []


def test_assign_resolve_and_reopen(client: TestClient, token_for: TokenFor, rulebook: None) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    filed = report(client, ana, my_id(client, bob))
    base = f"/api/v1/admin/reports/{filed['id']}"
    assigned = client.post(f"{base}/assign_to_self", headers=mod).json()
    assert assigned["assigned_account"]["username"] == "mia"
    assert client.post(f"{base}/unassign", headers=mod).json()["assigned_account"] is None
    resolved = client.post(f"{base}/resolve", headers=mod).json()
    assert resolved["action_taken"] is True
    assert resolved["action_taken_by_account"]["username"] == "mia"
    assert resolved["parvis"]["state"] == "no_action"
    assert client.get("/api/v1/admin/reports", headers=mod).json() == []
    assert len(client.get("/api/v1/admin/reports?resolved=true", headers=mod).json()) == 1
    reopened = client.post(f"{base}/reopen", headers=mod).json()
    assert reopened["action_taken"] is False
    assert reopened["parvis"]["state"] == "received"


def test_admin_reports_need_the_role_and_the_scope(client: TestClient, token_for: TokenFor) -> None:
    member_with_scope = token_for("ana", scope=ADMIN_SCOPES)
    response = client.get("/api/v1/admin/reports", headers=member_with_scope)
    assert response.status_code == 403
    assert "moderator" in response.json()["error"]
    mod_without_scope = token_for("mia", role=Role.MODERATOR)
    response = client.get("/api/v1/admin/reports", headers=mod_without_scope)
    assert response.status_code == 403
    assert "admin:read:reports" in response.json()["error"]
    sub_scope = token_for("max", scope="admin:read:reports", role=Role.MODERATOR)
    assert client.get("/api/v1/admin/reports", headers=sub_scope).status_code == 200
    assert client.post("/api/v1/admin/reports/1/resolve", headers=sub_scope).status_code == 403
    assert client.get("/api/v1/admin/reports").status_code == 401


def test_unknown_report_is_404(client: TestClient, token_for: TokenFor) -> None:
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    response = client.get("/api/v1/admin/reports/999", headers=mod)
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    assert client.post("/api/v1/admin/reports/1/explode", headers=mod).status_code == 404


def test_update_sets_the_cited_rule(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    filed = report(client, ana, my_id(client, bob), **{"rule_ids[]": "", "category": "other"})
    path = f"/api/v1/admin/reports/{filed['id']}"
    assert client.get(path, headers=mod).json()["rules"] == []
    updated = client.put(path, data={"rule_ids[]": "scams"}, headers=mod)
    assert updated.status_code == 200, updated.text
    assert [r["id"] for r in updated.json()["rules"]] == ["scams"]
    assert updated.json()["category"] == "violation"
    unknown = client.put(path, data={"rule_ids[]": "nope"}, headers=mod)
    assert unknown.status_code == 422
