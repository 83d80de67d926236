"""Demo data for a fresh instance: a few members (one with many followers), posts, replies,
quotes, votes, reposts and an article with a comment thread."""

from __future__ import annotations

from sqlalchemy.orm import Session

from parvis.accounts import passwords
from parvis.accounts.models import Role, User
from parvis.audit import log as audit_log
from parvis.moderation import notices, publication
from parvis.moderation.decisions import DecisionRequest
from parvis.moderation.models import Action, Automation, Source, SubjectType
from parvis.moderation.services import take_decision
from parvis.runtime import Runtime
from parvis.social import graph, posts
from parvis.social.models import PostKind
from parvis.social.posts import PostDraft
from parvis.storage.base import utcnow
from parvis.transparency.demo import leaked_dossier

DEMO_PASSWORD = "parvis-demo-square-2026"
FOLLOWER_ACCOUNTS = 150

PEOPLE = [
    ("ana", "Ana Admin", Role.ADMIN, "Runs this instance. Rules are at /rules."),
    ("marc", "Marc (moderator)", Role.MODERATOR, "Volunteer moderator."),
    ("lea", "Léa Martin", Role.MEMBER, "Investigative journalist. Newsletter: The Vetting File."),
    ("bigvoice", "Big Voice", Role.MEMBER, "The most-followed account here."),
    ("tom", "Tom", Role.MEMBER, "Reads everything, posts little."),
    ("sofia", "Sofia Reyes", Role.MEMBER, "Writes long-form pieces about public spaces."),
]


def _user(username: str, display: str, role: Role, bio: str, password_hash: str) -> User:
    return User(
        username=username,
        username_key=username.lower(),
        email=f"{username}@demo.parvis.invalid",
        email_key=f"{username}@demo.parvis.invalid",
        email_verified_at=utcnow(),
        password_hash=password_hash,
        display_name=display,
        bio=bio,
        role=role.value,
    )


def _moderation_examples(
    session: Session, runtime: Runtime, big: User, tom: User, marc: User
) -> None:
    """An open notice in the moderators' queue and one decision with its statement of reasons."""
    rude = posts.create_post(
        session, runtime.settings, big, PostDraft(body="Anyone who disagrees with me is vermin.")
    )
    notices.submit_notice(
        session,
        runtime.services,
        location=f"/@{big.username}/{rude.id}",
        category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        explanation="Dehumanising language aimed at everyone who disagrees; please review.",
        good_faith=True,
        notifier=tom,
    )
    version = publication.get_version(session)
    rule = publication.parsed(version).rule("harassment").info(version.version)
    heated = posts.create_post(
        session,
        runtime.settings,
        big,
        PostDraft(body="Tom, you are a clown and everyone knows it."),
    )
    take_decision(
        session,
        runtime.services,
        DecisionRequest(
            subject_type=SubjectType.POST,
            subject_key=str(heated.id),
            action=Action.LABEL,
            rule=rule,
            facts="The post insults a named member; labelled, not removed, as a first occurrence.",
            source=Source.OWN_INITIATIVE,
            automated_detection=False,
            automated_decision=Automation.NOT_AUTOMATED,
            decided_by_id=marc.id,
        ),
    )


def load_demo(runtime: Runtime) -> str:
    """Fill an empty database with the demo community; returns how to sign in."""
    settings = runtime.settings
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    with runtime.db.session() as session:
        publication.ensure_default(session)
        people = {}
        for username, display, role, bio in PEOPLE:
            user = _user(username, display, role, bio, password_hash)
            session.add(user)
            people[username] = user
        readers = []
        for number in range(1, FOLLOWER_ACCOUNTS + 1):
            # Bulk readers cannot sign in ("!" never matches an argon2 hash).
            reader = _user(f"reader{number:03d}", f"Reader {number}", Role.MEMBER, "", "!")
            session.add(reader)
            readers.append(reader)
        session.flush()
        for user in people.values():
            if user.role != Role.MEMBER.value:
                audit_log.record_role(session, user.id, user.username, user.role)
        ana, marc, lea, big, tom, sofia = (people[name] for name, *_ in PEOPLE)
        for reader in readers:
            graph.follow(session, reader, big)
        for follower, followee in [
            (tom, big), (tom, lea), (tom, sofia), (lea, sofia), (sofia, lea), (ana, lea),
            (marc, big), (big, lea), (lea, tom), (ana, sofia),
        ]:  # fmt: skip
            graph.follow(session, follower, followee)

        def post(author: User, body: str, **kwargs: object) -> int:
            created = posts.create_post(session, settings, author, PostDraft(body=body, **kwargs))  # type: ignore[arg-type]
            return created.id

        welcome = post(
            ana, "Welcome to the square. The **rules** are public: read them at /rules. #parvis"
        )
        post(big, "Good morning, everyone. Big announcement later today. #news")
        dossier = post(
            lea,
            "My newsletter on the campaign's vetting file: https://newsletter.example/vetting-file "
            "#press",
        )
        reply = post(tom, "Thanks @lea, reading it now.", in_reply_to_id=dossier)
        post(lea, "@tom tell me what you think of part two.", in_reply_to_id=reply)
        post(sofia, "Careful journalism, and the sources are linked.", quote_of_id=dossier)
        post(big, "Everyone is talking about this. #news", quote_of_id=dossier)
        post(tom, "Is the live interview still on for tonight?")
        post(marc, "Reminder: report posts with the report link; moderators answer every notice.",
             in_reply_to_id=welcome)  # fmt: skip
        article = posts.create_post(
            session,
            settings,
            sofia,
            PostDraft(
                kind=PostKind.ARTICLE,
                title="What a public square owes its public",
                body=(
                    "## Known rules\n\nA square is public because its rules are known in "
                    "advance and apply to everyone.\n\n## Explained decisions\n\nWhen something "
                    "is taken down, the person affected deserves to know which rule, and how to "
                    "appeal.\n\n## Staying open\n\nA square that closes when it is crowded is "
                    "not a square. #parvis"
                ),
            ),
        )
        first = post(lea, "Agreed on the second point; the appeal path is what people miss.",
                     in_reply_to_id=article.id)  # fmt: skip
        post(sofia, "@lea exactly, and appeals must go to someone else.", in_reply_to_id=first)
        post(tom, "Bookmarking this one.", in_reply_to_id=article.id)
        for voter in (tom, sofia, ana, marc, big):
            posts.vote(session, voter, dossier, 1)
        for voter in (tom, lea, ana):
            posts.vote(session, voter, article.id, 1)
        posts.vote(session, tom, welcome, 1)
        posts.vote(session, lea, first + 1, 1)
        for reader in readers[:12]:
            posts.vote(session, reader, article.id, 1)
        posts.repost(session, tom, dossier)
        posts.repost(session, sofia, dossier)
        posts.repost(session, lea, article.id)
        _moderation_examples(session, runtime, big, tom, marc)
        leaked_dossier(session, runtime)  # scenario 1: list entry, decisions, appeal
    names = ", ".join(f"{name} ({role.value})" for name, _d, role, _b in PEOPLE)
    return (
        f"demo data loaded: {len(PEOPLE)} members and {FOLLOWER_ACCOUNTS} followers of @bigvoice.\n"
        f"sign in as any of {names} with the password {DEMO_PASSWORD}"
    )
