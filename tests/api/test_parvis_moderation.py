"""/api/parvis/v1 rules, decisions, statements and appeals; /api/v1/instance/rules."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from tests.api.conftest import Headers, TokenFor, my_id
from tests.api.test_admin_reports import ADMIN_SCOPES


def suspend(client: TestClient, mod: Headers, account_id: str) -> dict[str, Any]:
    """Suspend an account under `impersonation`; returns the decision's public form."""
    response = client.post(
        f"/api/v1/admin/accounts/{account_id}/action",
        data={"type": "suspend", "rule_id": "impersonation", "text": "Poses as the mayor."},
        headers=mod,
    )
    assert response.status_code == 200, response.text
    mine = client.get(f"/api/v1/admin/accounts/{account_id}", headers=mod).json()
    decision: dict[str, Any] = client.get(
        f"/api/parvis/v1/decisions/{mine['parvis']['decision_id']}"
    ).json()
    return decision


def test_rules_current_and_versions(client: TestClient, rulebook: None) -> None:
    instance_rules = client.get("/api/v1/instance/rules").json()
    assert {"id": "harassment", "text": "Harassment"}.items() <= next(
        r for r in instance_rules if r["id"] == "harassment"
    ).items()
    current = client.get("/api/parvis/v1/rules").json()
    assert current["version"] == 1
    assert "doxxing" in current["content"]
    doxxing = next(r for r in current["rules"] if r["id"] == "doxxing")
    assert doxxing["signals_all_of"] == ["national_id", "street_address"]
    assert doxxing["automatic"] is True
    versions = client.get("/api/parvis/v1/rules/versions").json()
    assert [v["version"] for v in versions] == [1]
    assert client.get("/api/parvis/v1/rules/versions/1").json()["rules"] == current["rules"]
    assert client.get("/api/parvis/v1/rules/versions/9").status_code == 404


def test_decision_public_form_and_statement(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    bob = token_for("bob")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    decision = suspend(client, mod, my_id(client, bob))
    assert decision["rule_id"] == "impersonation"
    assert decision["action"] == "suspend"
    assert decision["subject_key"] is None  # the public does not see whom it affected
    assert decision["facts"] == "Poses as the mayor."
    own = client.get(f"/api/parvis/v1/decisions/{decision['id']}", headers=bob).json()
    assert own["subject_key"] == my_id(client, bob)
    statement = client.get(f"/api/parvis/v1/statements/{decision['id']}").json()
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert statement["puid"] == f"parvis-decision-{decision['id']}"
    listed = client.get("/api/parvis/v1/decisions").json()
    assert [d["id"] for d in listed] == [decision["id"]]
    mine = client.get("/api/parvis/v1/decisions?mine=true", headers=bob).json()
    assert [d["id"] for d in mine] == [decision["id"]]
    assert client.get("/api/parvis/v1/decisions/abc").status_code == 404


def test_member_appeals_and_another_moderator_decides(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    bob, ana = token_for("bob"), token_for("ana")
    mia = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    max_ = token_for("max", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    decision = suspend(client, mia, my_id(client, bob))
    path = f"/api/parvis/v1/decisions/{decision['id']}/appeals"
    assert client.post(path, data={"reason": "short"}, headers=bob).status_code == 422
    assert (
        client.post(path, data={"reason": "I am not the mayor, never was."}, headers=ana)
    ).status_code == 403
    lodged = client.post(path, data={"reason": "I never claimed to be the mayor."}, headers=bob)
    assert lodged.status_code == 200, lodged.text
    appeal = lodged.json()
    assert appeal["state"] == "open"
    assert [a["id"] for a in client.get("/api/parvis/v1/appeals", headers=bob).json()] == [
        appeal["id"]
    ]
    assert client.get(f"/api/parvis/v1/appeals/{appeal['id']}", headers=ana).status_code == 404
    queue = client.get("/api/parvis/v1/admin/appeals", headers=max_).json()
    assert [a["id"] for a in queue] == [appeal["id"]]
    decide = f"/api/parvis/v1/admin/appeals/{appeal['id']}/decide"
    own = client.post(decide, data={"outcome": "reversed", "facts": "x"}, headers=mia)
    assert own.status_code == 403
    decided = client.post(
        decide, data={"outcome": "reversed", "facts": "The profile is parody."}, headers=max_
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "reversed"
    restored = client.get(f"/api/parvis/v1/decisions/{decided.json()['outcome_decision_id']}")
    assert restored.json()["action"] == "restore"
    assert client.post("/api/v1/statuses", data={"status": "back"}, headers=bob).status_code == 200
    assert client.get("/api/parvis/v1/admin/appeals", headers=bob).status_code == 403


def test_moderators_review_automated_decisions_through_the_api(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    bob = token_for("bob")
    mia = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    doxxing = "Kelly Howard SSN 589-18-6326 lives at 2996 Drub Avenue"
    posted = client.post("/api/v1/statuses", data={"status": doxxing}, headers=bob).json()
    assert posted["parvis"]["moderation"]["action"] == "remove"
    queue = client.get("/api/parvis/v1/admin/automated", headers=mia).json()
    assert [(d["rule_id"], d["subject_key"]) for d in queue] == [("doxxing", posted["id"])]
    assert client.get("/api/parvis/v1/admin/automated", headers=bob).status_code == 403
    path = f"/api/parvis/v1/admin/automated/{queue[0]['id']}/review"
    assert client.post(path, data={"answer": "maybe"}, headers=mia).status_code == 422
    assert client.post(path, data={"answer": "uphold"}, headers=bob).status_code == 403
    upheld = client.post(
        path, data={"answer": "uphold", "facts": "Checked: a real person's data."}, headers=mia
    )
    assert upheld.status_code == 200, upheld.text
    assert (upheld.json()["action"], upheld.json()["automated_decision"]) == (
        "remove",
        "not_automated",
    )
    assert client.get("/api/parvis/v1/admin/automated", headers=mia).json() == []
    again = client.post(path, data={"answer": "reverse", "facts": "Second look."}, headers=mia)
    assert again.status_code == 422
    unknown = "/api/parvis/v1/admin/automated/999999/review"
    assert (
        client.post(unknown, data={"answer": "uphold", "facts": "x"}, headers=mia).status_code
        == 404
    )
