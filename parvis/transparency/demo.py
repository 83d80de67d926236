"""Scenario 1 in the demo data, so a newcomer sees a populated report, log and proofs.

The journalist's post links the newsletter that carries the leaked vetting file; another member
posts the same address. A moderator lists the address on the hacked-materials list citing the
rule; Parvis proposes blocking its sharing and a warning on both posts, and the moderator
confirms (the journalist's account stays active). The journalist appeals; an admin, not the
moderator who decided, upholds the decision, which is itself a new decision. Everything goes
through the real decision path (lists, proposals, confirmation, appeals), as on the desk.
(The demo has no link checker run, so the listed address is the one the posts link.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.moderation import appeals, decisions, lists
from parvis.moderation.models import AppealState, SubjectType
from parvis.moderation.services import deliver
from parvis.runtime import Runtime
from parvis.social import posts
from parvis.social.models import Post
from parvis.social.posts import PostDraft

DOSSIER_URL = "https://newsletter.example/vetting-file"


def leaked_dossier(session: Session, runtime: Runtime) -> None:
    """Add scenario 1's list entry, decisions and appeal to a freshly loaded demo."""
    people = {
        user.username: user
        for user in session.scalars(
            select(User).where(User.username.in_(["ana", "marc", "lea", "tom"]))
        )
    }
    ana, marc, lea, tom = (people[name] for name in ("ana", "marc", "lea", "tom"))
    posts.create_post(
        session,
        runtime.settings,
        tom,
        PostDraft(body=f"Copy of the vetting file for anyone who missed it: {DOSSIER_URL}"),
    )
    _entry, proposals = lists.add_entry(
        session,
        marc,
        kind="url",
        value=DOSSIER_URL,
        rule_id="hacked-materials",
        note="Leaked campaign vetting file (holds a home address and part of an SSN).",
    )
    for proposal in proposals:
        deliver(session, runtime.services, decisions.confirm(session, proposal.id, marc))
    journalist_decision = next(
        proposal
        for proposal in proposals
        if proposal.subject_type == SubjectType.POST.value
        and session.get_one(Post, int(proposal.subject_key)).author_id == lea.id
    )
    appeal = appeals.file_appeal(
        session,
        lea,
        journalist_decision.id,
        "My post reports on the file and links my newsletter; it does not publish the file.",
    )
    outcome = appeals.decide_appeal(
        session,
        appeal.id,
        ana,
        outcome=AppealState.UPHELD,
        facts="The linked newsletter page's main item is the listed file; the warning stays, "
        "and the account stays active.",
    )
    deliver(session, runtime.services, outcome)
