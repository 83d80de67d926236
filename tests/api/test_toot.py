"""toot, the Mastodon command-line client, works against a live Parvis server: login, post,
reply, timeline, follow and whoami. Run as a subprocess with its own HOME and config folder.

Skipped when toot is not installed (it is a test-only dependency).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import PASSWORD, MakeUser

TOOT = shutil.which("toot", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(TOOT is None, reason="toot is not installed (pip install toot)")


def run_toot(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run toot with an isolated home and config folder; 30 s at most."""
    assert TOOT is not None
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [TOOT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def test_toot_login_post_reply_timeline_follow_whoami(
    live_api: str, make_user: MakeUser, client: TestClient, tmp_path: Path
) -> None:
    make_user("ana")
    make_user("bob")
    home = tmp_path / "home"
    home.mkdir()
    login = run_toot(
        home,
        "login_cli",
        "--instance",
        live_api,
        "--email",
        "ana@example.org",
        stdin=PASSWORD + "\n",
    )
    assert login.returncode == 0, login.stdout + login.stderr
    assert "Successfully logged in" in login.stdout
    whoami = run_toot(home, "whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert "@ana" in whoami.stdout
    posted = run_toot(home, "post", "hello from toot #cli")
    assert posted.returncode == 0, posted.stderr
    status_id = posted.stdout.strip().rstrip("/").split("/")[-1]
    assert status_id.isdigit(), posted.stdout
    reply = run_toot(home, "post", "a reply from toot", "--reply-to", status_id)
    assert reply.returncode == 0, reply.stderr
    context = client.get(f"/api/v1/statuses/{status_id}/context").json()
    assert [s["content"].strip() for s in context["descendants"]] == ["<p>a reply from toot</p>"]
    follow = run_toot(home, "follow", "bob")
    assert follow.returncode == 0, follow.stderr
    bob_id = client.get("/api/v1/accounts/lookup?acct=bob").json()["id"]
    followers = client.get(f"/api/v1/accounts/{bob_id}/followers").json()
    assert [a["username"] for a in followers] == ["ana"]
    timeline = run_toot(home, "timelines", "home", "--no-pager", "--no-clear", "--limit", "10")
    assert timeline.returncode == 0, timeline.stderr
    assert "hello from toot" in timeline.stdout
    assert "a reply from toot" in timeline.stdout
