"""/api/v1/admin/domain_blocks: domains on the hacked-materials list, each citing a rule."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from parvis.accounts.models import Role
from parvis.moderation.models import Decision, ListEntryRemoval
from parvis.runtime import Runtime
from tests.api.conftest import TokenFor
from tests.api.test_admin_reports import ADMIN_SCOPES


def test_block_refuses_new_posts_and_removal_is_recorded(
    client: TestClient, token_for: TokenFor, rulebook: None, runtime: Runtime
) -> None:
    ana = token_for("ana")
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    created = client.post(
        "/api/v1/admin/domain_blocks",
        data={"domain": "leaks.example", "severity": "suspend", "private_comment": "dossier"},
        headers=mod,
    )
    assert created.status_code == 200, created.text
    block = created.json()
    assert block["domain"] == "leaks.example"
    assert block["severity"] == "suspend"
    assert block["parvis"]["rule_id"] == "hacked-materials"
    assert block["private_comment"] == "dossier"
    refused = client.post(
        "/api/v1/statuses", data={"status": "read https://leaks.example/a.pdf"}, headers=ana
    )
    assert refused.status_code in (403, 422)
    assert "hacked-materials" in refused.json()["error"]
    listed = client.get("/api/v1/admin/domain_blocks", headers=mod).json()
    assert [b["id"] for b in listed] == [block["id"]]
    assert client.get(f"/api/v1/admin/domain_blocks/{block['id']}", headers=mod).json() == block
    removed = client.delete(f"/api/v1/admin/domain_blocks/{block['id']}", headers=mod)
    assert removed.status_code == 200
    assert client.get("/api/v1/admin/domain_blocks", headers=mod).json() == []
    allowed = client.post(
        "/api/v1/statuses", data={"status": "read https://leaks.example/a.pdf"}, headers=ana
    )
    assert allowed.status_code == 200, allowed.text
    with runtime.db.session() as session:
        removal = session.scalars(select(ListEntryRemoval)).one()
        assert (removal.value, removal.rule_id) == ("leaks.example", "hacked-materials")
        actions = session.scalars(
            select(Decision.action).where(Decision.subject_key == "leaks.example")
        ).all()
        assert sorted(actions) == ["block_url", "restore"]


def test_noop_only_lists_and_unknown_rule_is_refused(
    client: TestClient, token_for: TokenFor, rulebook: None
) -> None:
    mod = token_for("mia", scope=ADMIN_SCOPES, role=Role.MODERATOR)
    noop = client.post(
        "/api/v1/admin/domain_blocks",
        data={"domain": "watch.example", "severity": "noop"},
        headers=mod,
    ).json()
    assert noop["severity"] == "noop"
    assert noop["parvis"]["decision_id"] is None
    bad = client.post(
        "/api/v1/admin/domain_blocks",
        data={"domain": "x.example", "rule_id": "nope"},
        headers=mod,
    )
    assert bad.status_code == 422
    assert "nope" in bad.json()["error"]
    again = client.post(
        "/api/v1/admin/domain_blocks", data={"domain": "watch.example"}, headers=mod
    )
    assert again.status_code == 409
    assert client.get("/api/v1/admin/domain_blocks/12345", headers=mod).status_code == 404
    member = token_for("ana", scope=ADMIN_SCOPES)
    assert client.get("/api/v1/admin/domain_blocks", headers=member).status_code == 403
