"""Scenario 1, the leaked dossier, through the public interfaces: a journalist links a
newsletter whose page links a 271-page PDF holding a home address and a partial SSN; the link
checker reads it; a moderator lists the PDF's address and fingerprint citing the hacked-materials
rule; Parvis proposes blocking the address and a warning on the post, and the journalist stays
active; a renamed re-upload is caught by fingerprint under the same rule and action; the
journalist appeals and another moderator decides, which is a new decision. Then anyone proves
both decisions are in the signed log, `parvis audit verify` passes, and deleting the first
decision's row makes it fail naming that decision's leaf."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from starlette.testclient import TestClient
from typer.testing import CliRunner

from parvis.accounts.models import Role
from parvis.app import create_app
from parvis.cli import app as cli
from parvis.config import Settings
from parvis.moderation import dsa, publication
from parvis.moderation.models import Decision, FetchState, LinkFetch
from parvis.runtime import Runtime
from parvis.storage.registry import metadata
from tests.audit.outsider import proved_consistent, proved_decision, signed_head
from tests.conftest import MakeUser, outbox_messages
from tests.pdfs import make_pdf
from tests.sites import Site, newsletter
from tests.web.conftest import form_post, login

PDF_PATH = "/files/vetting-file.pdf"


def vetting_file() -> bytes:
    """271 pages of a vetting file; page 2 holds a home address and a partial SSN."""
    pages = []
    for number in range(271):
        lines = [
            f"Campaign vetting file, page {number + 1} of 271",
            f"Background interview {number}: employment history and public statements.",
            f"Reviewed by the committee on day {number % 30 + 1}; no further action noted.",
        ]
        if number == 1:
            lines += ["Home address: 1600 Pennsylvania Avenue.", "SSN: ***-**-4399"]
        pages.append(lines)
    return make_pdf(pages, title="Vetting file")


@pytest.fixture
def checked_app(settings: Settings) -> Iterator[FastAPI]:
    """The app with its link checker running every 0.1 s and allowed to read loopback."""
    application = create_app(
        settings.model_copy(
            update={
                "link_check_enabled": True,
                "link_check_allow_private": True,
                "link_check_interval_seconds": 0.1,
            }
        ),
        migrate_on_start=False,
    )
    yield application
    application.state.runtime.db.dispose()


def _wait_until_read(runtime: Runtime, url: str) -> LinkFetch:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with runtime.db.session() as session:
            fetch = session.scalar(select(LinkFetch).where(LinkFetch.url == url))
            if fetch is not None and fetch.state != FetchState.PENDING.value:
                session.expunge(fetch)
                return fetch
        time.sleep(0.1)
    raise AssertionError(f"the link checker did not read {url}")


def _proposals(client: TestClient) -> list[str]:
    return re.findall(r"<strong>Proposal (\d+)</strong>", client.get("/moderation").text)


def _confirm_all(client: TestClient) -> None:
    for decision_id in _proposals(client):
        confirmed = form_post(
            client,
            f"/moderation/proposals/{decision_id}",
            page="/moderation",
            data={"answer": "confirm"},
        )
        assert confirmed.status_code == 303


def _delete_decision_row(runtime: Runtime, decision_id: int) -> None:
    """What a dishonest operator would do: delete a decision's row, clearing or deleting the
    rows that point at it as the database's foreign keys require."""
    with runtime.db.session() as session:
        for table in metadata.sorted_tables:
            for key in table.foreign_keys:
                if key.column.table.name != "decisions" or table.name == "decisions":
                    continue
                column = key.parent
                if column.nullable:
                    statement = f"UPDATE {table.name} SET {column.name} = NULL"  # noqa: S608
                else:
                    statement = f"DELETE FROM {table.name}"  # noqa: S608
                session.execute(text(f"{statement} WHERE {column.name} = :id"), {"id": decision_id})
        session.execute(text("UPDATE decisions SET supersedes_id = NULL WHERE supersedes_id = :id"),
                        {"id": decision_id})  # fmt: skip
        session.execute(text("DELETE FROM decisions WHERE id = :id"), {"id": decision_id})


def test_leaked_dossier(
    checked_app: FastAPI,
    runtime: Runtime,
    settings: Settings,
    make_user: MakeUser,
    site: tuple[str, Site],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, pages = site
    dossier = vetting_file()
    pages["/newsletter"] = ("text/html", newsletter(base, PDF_PATH))
    pages[PDF_PATH] = ("application/pdf", dossier)
    with runtime.db.session() as session:
        publication.ensure_default(session)
    make_user("journalist")
    make_user("reader")
    make_user("mod_one", role=Role.MODERATOR)
    make_user("mod_two", role=Role.MODERATOR)

    with TestClient(checked_app) as client:
        # 2. The journalist links the newsletter; the checker reads the page and its PDF.
        login(client, "journalist")
        body = f"My newsletter on the campaign's vetting file {base}/newsletter"
        assert form_post(client, "/compose", {"body": body}).status_code == 303
        post_path = re.search(r'href="(/@journalist/\d+)"', client.get("/@journalist").text)
        assert post_path
        read = _wait_until_read(runtime, f"{base}{PDF_PATH}")
        assert read.sha256 == hashlib.sha256(dossier).hexdigest()
        with runtime.db.session() as session:
            assert session.scalars(select(Decision)).all() == []  # a partial SSN is not doxxing

        # 6 (before). Anyone fetches the signed tree head before the decisions.
        before = signed_head(client)

        # 3. A moderator lists the PDF's address and fingerprint, citing the rule.
        login(client, "mod_one")
        for kind, value in (("url", f"{base}{PDF_PATH}"), ("document", read.sha256)):
            listed = form_post(
                client,
                "/moderation/lists",
                page="/moderation",
                data={"kind": kind, "value": value, "rule": "hacked-materials", "note": "leak"},
            )
            assert listed.status_code == 303, listed.text
        desk = client.get("/moderation").text
        assert len(_proposals(client)) == 2  # block the address; a warning on the post
        assert "block url on url" in desk
        assert "interstitial on post" in desk
        _confirm_all(client)
        with runtime.db.session() as session:
            first = session.scalars(select(Decision).where(Decision.subject_type == "post")).one()
            assert (first.rule_id, first.action, first.state) == (
                "hacked-materials",
                "interstitial",
                "in_effect",
            )

        # The journalist's account stays active; sharing the address is refused.
        login(client, "journalist")
        assert 'class="interstitial"' in client.get(post_path.group(1)).text
        assert form_post(client, "/compose", {"body": "still here"}).status_code == 303
        refused = form_post(client, "/compose", {"body": f"again {base}{PDF_PATH}"})
        assert refused.status_code == 403

        # 4. Another member uploads the same PDF under another name: caught by fingerprint.
        login(client, "reader")
        uploaded = form_post(
            client,
            "/compose",
            {"body": "Found this file"},
            files={"files": ("campaign-notes.pdf", dossier, "application/pdf")},
        )
        assert uploaded.status_code == 303
        login(client, "mod_one")
        assert len(_proposals(client)) == 1
        _confirm_all(client)
        with runtime.db.session() as session:
            on_posts = session.scalars(
                select(Decision).where(Decision.subject_type == "post").order_by(Decision.id)
            ).all()
            assert [(d.rule_id, d.action) for d in on_posts] == [
                ("hacked-materials", "interstitial"),
                ("hacked-materials", "interstitial"),
            ]

        # 5. The journalist gets a statement of reasons with an appeal link, and appeals.
        mail = next(
            m
            for m in outbox_messages(settings)
            if "journalist@example.org" in m and "Moderation decision" in m
        )
        statement = re.search(r"http://testserver(/statements/(\d+))", mail)
        assert statement
        assert int(statement.group(2)) == first.id
        assert "Hacked materials (rule 'hacked-materials', rulebook version 1)" in mail
        assert "Links to, and copies of, documents listed as hacked materials" in mail
        assert "How to appeal: open that page and use the appeal form before" in mail
        machine = client.get(f"/api/parvis/v1/statements/{first.id}").json()
        assert dsa.validate_statement(machine) == []
        login(client, "journalist")
        page = client.get(statement.group(1)).text
        for field, value in machine.items():  # every DSA field, shown on the page
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            assert f'<dd id="dsa-{field}">{shown}</dd>' in page.replace("&#39;", "'"), field
        assert machine["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
        assert machine["incompatible_content_ground"] == (
            "Terms of service, clause 5 (hacked materials)"
        )
        assert 'id="appeal-deadline"' in page
        appealed = form_post(
            client,
            f"{statement.group(1)}/appeal",
            page=statement.group(1),
            data={"reason": "The newsletter reports on the file; it does not publish it."},
        )
        assert appealed.status_code == 303

        # A different moderator from the one who decided reviews it.
        login(client, "mod_two")
        appeal_id = re.search(r"<strong>Appeal #(\d+)</strong>", client.get("/moderation").text)
        assert appeal_id
        upheld = form_post(
            client,
            f"/moderation/appeals/{appeal_id.group(1)}",
            page="/moderation",
            data={
                "outcome": "upheld",
                "facts": "The post links a page whose main item is the listed file.",
            },
        )
        assert upheld.status_code == 303, upheld.text
        with runtime.db.session() as session:
            outcome = session.scalars(select(Decision).order_by(Decision.id.desc())).first()
            assert outcome is not None
            assert outcome.id != int(statement.group(2))
            assert outcome.subject_key == first.subject_key
            assert outcome.supersedes_id == first.id

        # 6. Anyone fetches the signed head after, proves the log only grew, and proves both
        # decisions (the journalist's and the appeal's outcome) are in it.
        client.cookies.clear()
        after = signed_head(client)
        assert after.tree_size > before.tree_size
        proved_consistent(client, before, after)
        original = proved_decision(client, first.puid, after)
        upheld_leaf = proved_decision(client, outcome.puid, after)
        assert (original["rule_id"], original["action"]) == ("hacked-materials", "interstitial")
        assert (upheld_leaf["rule_id"], upheld_leaf["action"]) == (
            "hacked-materials",
            "interstitial",
        )
        assert upheld_leaf["statement"]["puid"] == outcome.puid
        assert original["leaf_index"] < upheld_leaf["leaf_index"]
        published = client.get(f"/api/parvis/v1/log/leaves/{original['leaf_index']}").text
        assert "journalist" not in published  # the leaf holds no personal data

    # `parvis audit verify` passes; deleting the first decision's row makes it fail, naming it.
    monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")
    runner = CliRunner()
    passed = runner.invoke(cli, ["audit", "verify"])
    assert passed.exit_code == 0, passed.output
    assert passed.output.strip().endswith(": OK")
    _delete_decision_row(runtime, first.id)
    failed = runner.invoke(cli, ["audit", "verify"])
    assert failed.exit_code == 1
    assert failed.output.splitlines()[0] == (
        f"FAIL leaf {original['leaf_index']}: decision {first.id} was deleted from the database"
    )
