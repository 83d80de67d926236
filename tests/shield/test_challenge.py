"""The under-attack challenge: anonymous page views solve a signed puzzle once; members, API
tokens and the sign-in pages are never challenged; admins switch it on the shield page."""

from __future__ import annotations

import hashlib
import itertools
import re

from parvis.accounts.models import Role
from parvis.config import Settings
from parvis.runtime import Runtime
from parvis.shield.challenge import AttackMode, Puzzles, leading_zero_bits
from tests.conftest import MakeUser
from tests.shield.conftest import ClientFor, MakeApp, bearer_for, session_cookie_for, shield_of


def solve(puzzle: str, bits: int) -> str:
    for nonce in itertools.count():
        digest = hashlib.sha256(f"{puzzle}:{nonce}".encode()).digest()
        if leading_zero_bits(digest) >= bits:
            return str(nonce)
    raise AssertionError("unreachable")


def test_leading_zero_bits() -> None:
    assert leading_zero_bits(b"\x00\x0f") == 12
    assert leading_zero_bits(b"\x80") == 0
    assert leading_zero_bits(b"\x00\x00") == 16


def test_puzzles_are_bound_to_the_network_and_checked(settings: Settings) -> None:
    puzzles = Puzzles(settings.model_copy(update={"shield_challenge_bits": 8}))
    puzzle = puzzles.issue("192.0.2.1")
    nonce = solve(puzzle, 8)
    assert puzzles.solve_ok(puzzle, nonce, "192.0.2.1")
    assert not puzzles.solve_ok(puzzle, nonce, "192.0.2.2")  # solved elsewhere
    assert not puzzles.solve_ok(puzzle + "x", nonce, "192.0.2.1")  # forged
    wrong = next(
        str(n)
        for n in itertools.count()
        if leading_zero_bits(hashlib.sha256(f"{puzzle}:{n}".encode()).digest()) < 8
    )
    assert not puzzles.solve_ok(puzzle, wrong, "192.0.2.1")


def test_the_switch_is_kept_in_a_file_every_worker_reads(settings: Settings) -> None:
    one, other = AttackMode(settings), AttackMode(settings)
    assert not one.active
    one.set_manual(True, "ana")
    other._checked = 0.0
    assert other.active
    assert other.status().changed_by == "ana"
    one.set_manual(False, "ana")
    other._checked = 0.0
    assert not other.active


def test_sustained_shedding_switches_challenges_on(settings: Settings) -> None:
    mode = AttackMode(settings.model_copy(update={"shield_auto_sheds": 5}))
    for _ in range(4):
        mode.note_shed()
    assert not mode.status().active
    mode.note_shed()
    assert mode.status().active
    assert not mode.status().manual


def test_round_trip_over_http(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app(shield_challenge_bits=8)
    shield_of(app).mode.set_manual(True, "test")
    client = client_for(app, "192.0.2.10")
    page = client.get("/public?x=1", follow_redirects=False)
    assert page.status_code == 403
    assert "Checking your browser" in page.text
    assert '<script src="/static/shield-challenge.js"' in page.text
    puzzle = re.search(r'data-puzzle="([^"]+)"', page.text)
    assert puzzle is not None
    nonce = solve(puzzle.group(1), 8)
    verified = client.get(
        "/_shield/verify",
        params={"puzzle": puzzle.group(1), "nonce": nonce, "next": "/public?x=1"},
        follow_redirects=False,
    )
    assert verified.status_code == 303
    assert verified.headers["location"] == "/public?x=1"
    assert "parvis_pass=" in verified.headers["set-cookie"]
    assert client.get("/public").status_code == 200
    # The pass is bound to the network that solved it.
    stranger = client_for(app, "192.0.2.99")
    stranger.cookies.set("parvis_pass", client.cookies["parvis_pass"])
    assert stranger.get("/public").status_code == 403


def test_a_wrong_answer_and_an_outside_next_are_refused(
    make_app: MakeApp, client_for: ClientFor
) -> None:
    app = make_app(shield_challenge_bits=20)
    shield_of(app).mode.set_manual(True, "test")
    client = client_for(app)
    puzzle = re.search(r'data-puzzle="([^"]+)"', client.get("/public").text)
    assert puzzle is not None
    wrong = client.get(
        "/_shield/verify", params={"puzzle": puzzle.group(1), "nonce": "1", "next": "//evil"}
    )
    assert wrong.status_code == 403
    assert "did not check out" in wrong.text


def test_members_tokens_api_and_sign_in_pages_are_never_challenged(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app()
    shield_of(app).mode.set_manual(True, "test")
    client = client_for(app)
    assert client.get("/public").status_code == 403
    assert client.get("/login").status_code == 200
    assert client.get("/signup").status_code == 200
    assert client.get("/api/v1/timelines/public").status_code == 200
    assert client.get("/static/parvis.css").status_code == 200
    token = bearer_for(runtime, make_user, "ana")
    assert client.get("/public", headers=token).status_code == 200
    member = client_for(app, "192.0.2.50")
    member.cookies.set("parvis_session", session_cookie_for(runtime, make_user, "bob"))
    assert member.get("/public").status_code == 200


def test_admins_switch_it_on_the_shield_page(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app()
    admin = client_for(app, "192.0.2.60")
    admin.cookies.set("parvis_session", session_cookie_for(runtime, make_user, "ana", Role.ADMIN))
    page = admin.get("/admin/shield")
    assert page.status_code == 200
    assert "Under attack: off" in page.text
    assert "<svg" in page.text
    assert re.search(r"<dt>Concurrency limit</dt><dd>\d+ requests at once</dd>", page.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    switched = admin.post("/admin/shield/attack", data={"csrf_token": token.group(1), "on": "1"})
    assert switched.status_code == 200
    assert "Under attack: on" in switched.text
    assert "Switched on by ana" in switched.text
    assert client_for(app, "192.0.2.61").get("/public").status_code == 403
    assert AttackMode(runtime.settings).active  # persisted for other workers and restarts


def test_only_admins_see_the_shield_page(
    make_app: MakeApp, client_for: ClientFor, runtime: Runtime, make_user: MakeUser
) -> None:
    app = make_app()
    member = client_for(app)
    member.cookies.set(
        "parvis_session", session_cookie_for(runtime, make_user, "moe", Role.MODERATOR)
    )
    assert member.get("/admin/shield").status_code == 403
    assert member.post("/admin/shield/attack", data={"on": "1"}).status_code == 403
    assert client_for(app, "192.0.2.70").get("/admin/shield").status_code == 401
