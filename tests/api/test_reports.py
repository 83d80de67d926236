"""POST /api/v1/reports: a report becomes a notice citing a rule in force, answered with
Mastodon's Report entity."""

from __future__ import annotations

from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.api.admin_entities import AdminAccount, AdminReport
from parvis.api.reports import Report
from tests.api.conftest import TokenFor, my_id, post_status

COMMENT = "This post insults and threatens another member repeatedly."


def test_report_cites_the_first_rule_and_reads_back_as_a_report(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    mod = token_for("mia", scope="read admin:read", role=Role.MODERATOR)
    status = post_status(client, bob, "a rude post")
    response = client.post(
        "/api/v1/reports",
        data={
            "account_id": my_id(client, bob),
            "status_ids[]": status["id"],
            "rule_ids[]": ["harassment", "impersonation"],
            "comment": COMMENT,
        },
        headers=ana,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report.keys() == Report.__required_keys__ | Report.__optional_keys__
    assert report["category"] == "violation"  # rules were cited, no category given
    assert report["rule_ids"] == ["harassment"]  # a notice cites one rule: the first
    assert report["status_ids"] == [status["id"]]
    assert report["target_account"]["username"] == "bob"
    assert report["action_taken"] is False
    desk = client.get(f"/api/v1/admin/reports/{report['id']}", headers=mod).json()
    assert desk.keys() == AdminReport.__required_keys__ | AdminReport.__optional_keys__
    assert desk["target_account"].keys() == AdminAccount.__required_keys__
    assert [r["id"] for r in desk["rules"]] == ["harassment"]
    assert desk["comment"] == COMMENT


def test_report_refuses_unknown_rules_and_bad_ids(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    bob_id = my_id(client, bob)
    unknown = client.post(
        "/api/v1/reports",
        data={"account_id": bob_id, "rule_ids[]": "no-such-rule", "comment": COMMENT},
        headers=ana,
    )
    assert unknown.status_code == 422
    assert "Unknown rule 'no-such-rule'" in unknown.json()["error"]
    assert "harassment" in unknown.json()["error"]  # the rules that exist are named
    junk = client.post(
        "/api/v1/reports",
        data={"account_id": bob_id, "status_ids[]": "abc", "comment": COMMENT},
        headers=ana,
    )
    assert junk.status_code == 422
    assert "status_ids" in junk.json()["error"]
    nobody = client.post(
        "/api/v1/reports", data={"account_id": "999", "comment": COMMENT}, headers=ana
    )
    assert nobody.status_code == 404
    reader = token_for("reader", scope="read")
    refused = client.post(
        "/api/v1/reports", data={"account_id": bob_id, "comment": COMMENT}, headers=reader
    )
    assert refused.status_code == 403


def test_report_without_rules_keeps_its_category(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    ana, bob = token_for("ana"), token_for("bob")
    response = client.post(
        "/api/v1/reports",
        data={"account_id": my_id(client, bob), "category": "spam", "comment": COMMENT},
        headers=ana,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["category"], report["rule_ids"], report["status_ids"]) == ("spam", None, None)
    assert report["parvis"]["dsa_category"] == "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
