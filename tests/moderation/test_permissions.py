"""Who may moderate, walked over every route the app serves: members cannot reach anything of
the moderators' desk, the admin API or the moderation lists; no route, not even an admin's,
restricts or deletes anything except by a decision citing a rule; and nobody, admins included,
decides an appeal against their own decision."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from parvis.accounts.models import Role, User
from parvis.audit import keys
from parvis.audit.models import LogLeaf
from parvis.audit.verify import verify_database
from parvis.config import Settings
from parvis.moderation import appeals, lists, notices, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import (
    AccountRestriction,
    Action,
    Appeal,
    AppealState,
    Automation,
    BlockedLink,
    Decision,
    DecisionState,
    ListEntry,
    Notice,
    PostRestriction,
    RulebookVersion,
    Source,
    SubjectType,
    TrustedFlagger,
)
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.models import Post
from parvis.social.posts import PostDraft
from tests.api.conftest import Headers, TokenFor
from tests.conftest import MakeUser
from tests.web.conftest import csrf, form_post, login

ADMIN_SCOPES = "read write follow admin:read admin:write"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Where moderating happens: the desk and its reports, the admin API, the moderation lists.
MODERATION_PREFIXES = (
    "/moderation",
    "/rules/publish",
    "/admin/",
    "/api/v1/admin",
    "/api/v2/admin",
    "/api/parvis/v1/admin",
    "/api/parvis/v1/lists",
)
# Routes about the caller's own credentials and session, or the shield's switch: they cannot
# reach anyone else's content or account, and calling them would end the walk's own session.
OWN_SESSION = frozenset(
    {
        "/login",
        "/logout",
        "/signup",
        "/forgot-password",
        "/reset-password",
        "/settings/password",
        "/verify-email/resend",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/authorize",
        "/api/v1/apps",
        "/api/v1/accounts",
        "/admin/shield/attack",
    }
)
# Values tried for {action}-like path parts: every verb that could restrict or delete.
VERBS = (
    "delete",
    "remove",
    "suspend",
    "silence",
    "disable",
    "reject",
    "block",
    "resolve",
    "unsuspend",
    "enable",
)
# Fields a restricting route might act on, none of them citing a rule.
TEMPTING = {
    "type": "suspend",
    "action": "remove",
    "answer": "confirm",
    "outcome": "reversed",
    "new_action": "remove",
    "severity": "suspend",
    "domain": "elsewhere.example",
    "kind": "domain",
    "value": "elsewhere.example",
    "features": "posting",
    "duration_days": "3",
    "text": "Removed by an admin.",
    "facts": "Removed by an admin.",
    "reason": "Removed by an admin, no rule needed.",
    "status": "edited by an admin",
    "body": "edited by an admin",
}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route, through included routers."""

    def walk(found: Sequence[object], prefix: str) -> Iterator[tuple[str, str]]:
        for route in found:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                context = getattr(route, "include_context", None)
                yield from walk(inner.routes, prefix + getattr(context, "prefix", ""))
                continue
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    yield method, prefix + str(getattr(route, "path", ""))

    return sorted(set(walk(app.router.routes, "")))


@dataclass
class Scene:
    """A small instance with one of everything a moderation route can name."""

    victim: User
    post_id: int
    notice_id: int
    appeal_id: int
    decision_id: int
    proposal_id: int
    entry_id: int

    def paths(self, path: str) -> list[str]:
        """The concrete paths for a route pattern, one per verb where it takes one."""
        values = {
            "post_id": str(self.post_id),
            "status_id": str(self.post_id),
            "account_id": str(self.victim.id),
            "username": self.victim.username,
            "notice_id": str(self.notice_id),
            "report_id": str(self.notice_id),
            "appeal_id": str(self.appeal_id),
            "decision_id": str(self.proposal_id),
            "entry_id": str(self.entry_id),
            "list_name": "hacked-materials",
            "version": "1",
        }
        names = re.findall(r"{([a-z_]+)(?::[a-z]+)?}", path)
        verbs = [n for n in names if n in ("action", "lift", "which")]
        concrete = re.sub(
            r"{([a-z_]+)(?::[a-z]+)?}",
            lambda m: values.get(m.group(1), "{verb}" if m.group(1) in verbs else "1"),
            path,
        )
        return [concrete.replace("{verb}", verb) for verb in VERBS] if verbs else [concrete]


@pytest.fixture
def scene(runtime: Runtime, make_user: MakeUser) -> Scene:
    """A victim with posts, a notice, a decision under appeal, a proposal and a list entry."""
    with runtime.db.session() as session:
        publication.ensure_default(session)
    victim = make_user("victim")
    notifier = make_user("nora")
    moderator = make_user("mod_one", role=Role.MODERATOR)
    with runtime.db.session() as session:
        me = session.get_one(User, victim.id)
        target = posts.create_post(session, runtime.settings, me, PostDraft(body="mine to keep"))
        removed = posts.create_post(session, runtime.settings, me, PostDraft(body="insults"))
        posts.create_post(
            session, runtime.settings, me, PostDraft(body="see https://leaks.example/file.pdf")
        )
        notice = notices.submit_notice(
            session,
            runtime.services,
            location=f"/@victim/{target.id}",
            category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
            explanation="I simply do not like this post and want it gone.",
            good_faith=True,
            notifier=session.get_one(User, notifier.id),
        )
        rule = publication.parsed(publication.get_version(session)).rule("harassment").info(1)
        decision = take_decision(
            session,
            runtime.services,
            DecisionRequest(
                subject_type=SubjectType.POST,
                subject_key=str(removed.id),
                action=Action.REMOVE,
                rule=rule,
                facts="The post insulted a member.",
                source=Source.OWN_INITIATIVE,
                automated_detection=False,
                automated_decision=Automation.NOT_AUTOMATED,
                decided_by_id=moderator.id,
            ),
        )
        appeal = appeals.file_appeal(session, me, decision.id, "It was a joke between friends.")
        entry, proposals = lists.add_entry(
            session,
            session.get_one(User, moderator.id),
            kind="url",
            value="https://leaks.example/file.pdf",
            rule_id="hacked-materials",
        )
        return Scene(
            victim, target.id, notice.id, appeal.id, decision.id, proposals[0].id, entry.id
        )


def snapshot(runtime: Runtime) -> dict[str, object]:
    """What moderating would change: decisions, effects, lists, notices, appeals, flaggers."""
    with runtime.db.session() as session:
        count = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Decision,
                PostRestriction,
                AccountRestriction,
                BlockedLink,
                ListEntry,
                TrustedFlagger,
                RulebookVersion,
                LogLeaf,
            )
        }
        states = {
            "notices": sorted(session.scalars(select(Notice.state))),
            "appeals": sorted(session.scalars(select(Appeal.state))),
            "decisions": sorted(session.scalars(select(Decision.state))),
            "roles": sorted((u, r) for u, r in session.execute(select(User.username, User.role))),
        }
        return count | states


def test_members_cannot_reach_any_moderation_route(
    app: FastAPI,
    client: TestClient,
    runtime: Runtime,
    scene: Scene,
    make_user: MakeUser,
    token_for: TokenFor,
) -> None:
    token = token_for("plain", scope=ADMIN_SCOPES)  # a member may hold the scopes, not the role
    before = snapshot(runtime)
    login(client, "plain")
    token_csrf = csrf(client, "/")
    tried = 0
    for method, pattern in routes(app):
        if not pattern.startswith(MODERATION_PREFIXES) or pattern in OWN_SESSION:
            continue
        statuses = set()
        for path in scene.paths(pattern):
            api = path.startswith("/api/")
            response = client.request(
                method,
                path,
                headers=token if api else None,
                data=None if method == "GET" else {**TEMPTING, "csrf_token": token_csrf},
                follow_redirects=False,
            )
            statuses.add(response.status_code)
        # A verb the route does not know is no route at all (404); every real one is refused.
        assert 401 in statuses or 403 in statuses, (method, pattern, statuses)
        assert statuses <= {401, 403, 404}, (method, pattern, statuses)
        assert 404 not in statuses or "{" in pattern.rsplit("/", 1)[-1], (method, pattern)
        tried += 1
    assert tried > 30
    assert snapshot(runtime) == before


def _restrictions_have_decisions(runtime: Runtime, post_id: int, victim_id: int) -> list[str]:
    """Every way the invariant "nothing is restricted except by a decision" can be broken."""
    broken = []
    with runtime.db.session() as session:
        post = session.get(Post, post_id)
        if post is None or post.deleted_at is not None:
            broken.append(f"post {post_id} was deleted")
        if session.get(User, victim_id) is None:
            broken.append(f"account {victim_id} was deleted")
        for table in ("post_restrictions", "account_restrictions", "blocked_links"):
            orphans = session.execute(
                text(
                    f"SELECT r.decision_id, d.state FROM {table} r "  # noqa: S608
                    "LEFT JOIN decisions d ON d.id = r.decision_id "
                    "WHERE d.id IS NULL OR d.state <> 'in_effect'"
                )
            ).all()
            broken += [f"{table} row without a decision in force: {row}" for row in orphans]
        for decision in session.scalars(
            select(Decision).where(Decision.state != DecisionState.PROPOSED.value)
        ):
            if decision.state == DecisionState.DECLINED.value:
                continue
            rulebook = publication.parsed(
                publication.get_version(session, decision.rulebook_version)
            )
            try:
                rulebook.rule(decision.rule_id)
            except KeyError:
                broken.append(f"decision {decision.id} cites no rule of its rulebook")
            leaf = session.scalar(select(LogLeaf).where(LogLeaf.ref == f"decision:{decision.id}"))
            if leaf is None:
                broken.append(f"decision {decision.id} is not in the log")
    return broken


def test_no_route_restricts_anything_without_a_decision(
    app: FastAPI,
    client: TestClient,
    runtime: Runtime,
    settings: Settings,
    scene: Scene,
    token_for: TokenFor,
) -> None:
    """The owner's own powers: every write route, with fields that would restrict and no rule
    cited, leaves every restriction backed by a decision in force that cites a rule and is in
    the log, and the member's post and account in place."""
    token: Headers = token_for("owner", scope=ADMIN_SCOPES, role=Role.ADMIN)
    login(client, "owner")
    token_csrf = csrf(client, "/")
    tried = 0
    for method, pattern in routes(app):
        if method not in WRITES or pattern in OWN_SESSION:
            continue
        for path in scene.paths(pattern):
            api = path.startswith("/api/")
            response = client.request(
                method,
                path,
                headers=token if api else None,
                data={**TEMPTING, "csrf_token": token_csrf},
                follow_redirects=False,
            )
            assert response.status_code < 500, (method, path, response.text)
            broken = _restrictions_have_decisions(runtime, scene.post_id, scene.victim.id)
            assert not broken, (method, path, broken)
            tried += 1
    assert tried > 100
    assert client.get("/moderation").status_code == 200  # the walk kept its own session
    with runtime.db.session() as session:
        outcome = verify_database(session, keys.public_key_bytes(keys.signing_key(settings)))
    assert outcome.ok, outcome.sorted_problems()


def test_nobody_decides_an_appeal_against_their_own_decision(
    client: TestClient, runtime: Runtime, scene: Scene, make_user: MakeUser
) -> None:
    """The moderator who decided cannot decide the appeal on the desk, nor once made an admin;
    another moderator can. (Over the API: tests/api/test_parvis_moderation.py.)"""
    with runtime.db.session() as session:
        decider = session.get_one(Decision, scene.decision_id).decided_by_id
    login(client, "mod_one")
    desk = form_post(
        client,
        f"/moderation/appeals/{scene.appeal_id}",
        page="/moderation",
        data={"outcome": "reversed", "facts": "Fine after all."},
    )
    assert desk.status_code == 403
    with runtime.db.session() as session:
        assert session.get_one(Appeal, scene.appeal_id).state == AppealState.OPEN.value
        session.execute(text("UPDATE users SET role = 'admin' WHERE id = :id"), {"id": decider})
    login(client, "mod_one")  # now an admin: still the one who decided
    desk = form_post(
        client,
        f"/moderation/appeals/{scene.appeal_id}",
        page="/moderation",
        data={"outcome": "reversed", "facts": "Fine after all."},
    )
    assert desk.status_code == 403
    make_user("mod_two", role=Role.MODERATOR)
    login(client, "mod_two")
    decided = form_post(
        client,
        f"/moderation/appeals/{scene.appeal_id}",
        page="/moderation",
        data={"outcome": "reversed", "facts": "Read in context, a joke between friends."},
    )
    assert decided.status_code == 303
    with runtime.db.session() as session:
        assert session.get_one(Appeal, scene.appeal_id).state == AppealState.REVERSED.value
