"""The notice form: the required parts, an acknowledgement, and clear errors."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from parvis.config import Settings
from tests.conftest import MakeUser, outbox_messages
from tests.web.conftest import csrf, form_post, login


def test_anonymous_notice_with_all_parts_is_acknowledged(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    make_user("author")
    login(client, "author")
    form_post(client, "/compose", {"body": "something hateful"})
    post_path = re.search(r'href="(/@author/\d+)"', client.get("/@author").text)
    assert post_path
    client.cookies.clear()
    form = client.get(f"/report?url={post_path.group(1)}")
    assert post_path.group(1) in form.text
    data = {
        "location": f"http://testserver{post_path.group(1)}",
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "explanation": "This incites hatred against a religious group.",
        "name": "Nora",
        "email": "nora@example.org",
        "good_faith": "yes",
        "csrf_token": csrf(client, "/report"),
    }
    done = client.post("/report", data=data)
    assert done.status_code == 200
    assert re.search(r"Notice #\d+ received", done.text)
    assert "nora@example.org" in outbox_messages(settings)[-1]
    no_faith = client.post(
        "/report", data={**data, "good_faith": "", "csrf_token": csrf(client, "/report")}
    )
    assert no_faith.status_code == 422
    assert "good faith" in no_faith.text
    assert 'value="Nora"' in no_faith.text


def test_report_link_on_posts_and_api_report(client: TestClient, make_user: MakeUser) -> None:
    from tests.api.conftest import register_app
    from tests.conftest import PASSWORD

    author = make_user("author")
    make_user("reader")
    login(client, "author")
    form_post(client, "/compose", {"body": "a post"})
    assert "/report?url=" in client.get("/public").text
    app = register_app(client)
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "reader",
            "password": PASSWORD,
            "scope": "read write",
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    status_id = client.get("/api/v1/timelines/public", headers=headers).json()[0]["id"]
    short = client.post(
        "/api/v1/reports",
        data={"account_id": str(author.id), "status_ids[]": status_id, "comment": "bad"},
        headers=headers,
    )
    assert short.status_code == 422
    assert "at least 20" in short.json()["error"]
    report = client.post(
        "/api/v1/reports",
        data={
            "account_id": str(author.id),
            "status_ids[]": status_id,
            "category": "legal",
            "comment": "This post breaks the law on incitement.",
        },
        headers=headers,
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["status_ids"] == [status_id]
    assert body["parvis"]["dsa_category"] == "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
