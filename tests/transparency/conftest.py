"""Transparency test data made through the real decision path: a published rulebook, members,
posts, decisions (services.take_decision), notices and appeals; and the CLI pointed at the test
database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from parvis.accounts.models import Role, User
from parvis.config import Settings
from parvis.moderation import publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Decision, Source, SubjectType
from parvis.moderation.reasons import RuleInfo
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.posts import PostDraft
from tests.conftest import MakeUser


@dataclass
class World:
    """Members of a small instance and shortcuts to act on it."""

    runtime: Runtime
    alice: User
    bob: User
    mod: User
    mod2: User

    def rule(self, rule_id: str) -> RuleInfo:
        """A rule of the published rulebook, as decisions cite it."""
        with self.runtime.db.session(read_only=True) as session:
            row = publication.get_version(session)
            return publication.parsed(row).rule(rule_id).info(row.version)

    def post(self, author: User, body: str) -> int:
        """Publish a post through the write path; returns its id."""
        with self.runtime.db.session() as session:
            me = session.get_one(User, author.id)
            return posts.create_post(session, self.runtime.settings, me, PostDraft(body=body)).id

    def decide(
        self,
        post_id: int,
        rule_id: str,
        action: Action = Action.REMOVE,
        *,
        source: Source = Source.OWN_INITIATIVE,
        automated: bool = False,
        notice_id: int | None = None,
        propose: bool = False,
        subject: SubjectType = SubjectType.POST,
        key: str | None = None,
        scope: list[str] | None = None,
        facts: str = "The post breaks the rule cited (test data).",
    ) -> Decision:
        """Take a decision through moderation.services (delivered like on the desk)."""
        extra = {"territorial_scope": scope} if scope else {}
        with self.runtime.db.session() as session:
            return take_decision(
                session,
                self.runtime.services,
                DecisionRequest(
                    subject_type=subject,
                    subject_key=key or str(post_id),
                    action=action,
                    rule=self.rule(rule_id),
                    facts=facts,
                    source=source,
                    automated_detection=automated,
                    automated_decision=Automation.FULLY if automated else Automation.NOT_AUTOMATED,
                    decided_by_id=None if automated else self.mod.id,
                    notice_id=notice_id,
                    propose=propose,
                    **extra,  # type: ignore[arg-type]
                ),
            )


@pytest.fixture
def world(runtime: Runtime, make_user: MakeUser) -> World:
    """Two members and two moderators on an instance with the default rulebook."""
    with runtime.db.session() as session:
        publication.ensure_default(session)
    return World(
        runtime,
        make_user("alice"),
        make_user("bob"),
        make_user("mod_one", role=Role.MODERATOR),
        make_user("mod_two", role=Role.MODERATOR),
    )


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Point the `parvis` command at the test database."""

    def apply() -> None:
        monkeypatch.setenv("PARVIS_DATA_DIR", str(settings.data_dir))
        if settings.database_url:
            monkeypatch.setenv("PARVIS_DATABASE_URL", settings.database_url)
        else:
            monkeypatch.delenv("PARVIS_DATABASE_URL", raising=False)
        monkeypatch.setenv("PARVIS_SECRET_KEY", "test-secret-key-not-for-production")

    return apply
