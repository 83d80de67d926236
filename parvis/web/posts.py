"""Writing pages: compose, reply, quote, edit (with history), delete, repost, vote, bookmark,
articles, and serving uploaded media."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import FileResponse, Response

from parvis.accounts.models import User
from parvis.errors import InvalidInput, NotFound, ParvisError
from parvis.moderation.enforcement import post_restrictions
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, media, posts
from parvis.social.models import Attachment, Post, PostKind
from parvis.social.posts import PostDraft
from parvis.social.views import build_view, build_views
from parvis.web.common import back, errors_of, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()
COMPOSER_FIELDS = ("status", "spoiler_text", "file", "media_ids")


def _post_url(session: Session, post: Post) -> str:
    author = session.get_one(User, post.author_id)
    return f"/@{author.username}/{post.id}"


def _store_files(
    session: Session, runtime: Runtime, user: User, files: list[UploadFile]
) -> list[int]:
    ids = []
    for upload in files:
        if not upload.filename:
            continue  # an empty file input
        data = upload.file.read()
        attachment = media.store_upload(
            session,
            runtime.settings,
            session.get_one(User, user.id),
            filename=upload.filename,
            data=data,
        )
        ids.append(attachment.id)
    return ids


def _compose_page(
    request: Request,
    session: Session,
    page: Page,
    *,
    status: int = 200,
    reply_to: int | None = None,
    quote_id: int | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    heading: str = "New post",
    action: str = "/compose",
) -> Response:
    if errors:
        errors = {(k if k in COMPOSER_FIELDS else "_form"): v for k, v in errors.items()}
    quoted = None
    if quote_id is not None:
        quoted_post = posts.get_visible_post(session, page.viewer, quote_id)
        quoted = build_view(session, page.viewer, quoted_post)
    context = {
        "heading": heading,
        "reply_to": reply_to,
        "quote_id": quote_id,
        "quoted": quoted,
        "errors": errors,
        "values": values,
        "action": action,
    }
    return render(request, "compose.html", context, status_code=status)


def _after_writing(session: Session, post: Post, target: str) -> str:
    """Where the author goes after a post or an edit: `target`, unless screening removed the
    post at once (doxxing is out of view before anyone sees it). Then it is the statement of
    reasons, which names the rule and how to appeal, rather than a page where the post is
    silently missing."""
    restriction = post_restrictions(session, [post.id]).get(post.id)
    if restriction is not None and restriction.removed:
        return f"/statements/{restriction.decision_id}"
    return target


@router.get("/compose")
def compose_form(
    request: Request,
    quote: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The composer, optionally quoting a post."""
    page.require_user()
    with runtime.db.session() as session:
        return _compose_page(
            request, session, page, quote_id=quote, heading="Quote a post" if quote else "New post"
        )


@router.post("/compose")
def compose(
    request: Request,
    body: str = Form(""),
    spoiler_text: str = Form(""),
    in_reply_to_id: int | None = Form(None),
    quote_of_id: int | None = Form(None),
    files: list[UploadFile] = File(default=[]),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Publish a post, reply or quote (with attachments)."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            attachment_ids = _store_files(session, runtime, user, files)
            draft = PostDraft(
                body=body,
                spoiler_text=spoiler_text,
                in_reply_to_id=in_reply_to_id,
                quote_of_id=quote_of_id,
                attachment_ids=attachment_ids,
            )
            post = posts.create_post(
                session,
                runtime.settings,
                session.get_one(User, user.id),
                draft,
                services=runtime.services,
            )
            target = _after_writing(
                session, post, _post_url(session, post) if (in_reply_to_id or quote_of_id) else "/"
            )
    except ParvisError as exc:
        with runtime.db.session() as session:
            return _compose_page(
                request,
                session,
                page,
                status=exc.status_code,
                reply_to=in_reply_to_id,
                quote_id=quote_of_id,
                errors=errors_of(exc),
                values={"body": body, "spoiler_text": spoiler_text},
            )
    return redirect(target)


@router.get("/@{username}/{post_id:int}")
def thread_page(
    request: Request,
    username: str,
    post_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """A post with its conversation (or an article with its comments)."""
    with runtime.db.session() as session:
        post = posts.get_post(session, post_id)
        author = session.get_one(User, post.author_id)
        if author.username_key != username.lower():
            return redirect(f"/@{author.username}/{post.id}")
        if post.reblog_of_id is not None:
            return redirect(_post_url(session, posts.get_post(session, post.reblog_of_id)))
        if post.deleted_at is None:
            post = posts.get_visible_post(session, page.viewer, post_id)
        elif not post.replies_count:
            raise NotFound("This post was deleted by its author.")
        thread = feeds.thread(session, page.viewer, post)
        all_posts = [*thread.ancestors, thread.post, *(p for p, _ in thread.descendants)]
        views = build_views(session, page.viewer, all_posts)
        count = len(thread.ancestors)
        depths = [depth for _, depth in thread.descendants]
        return render(
            request,
            "thread.html",
            {
                "ancestors": views[:count],
                "focus": views[count],
                "replies": list(zip(views[count + 1 :], depths, strict=True)),
            },
        )


@router.get("/posts/{post_id}/edit")
def edit_form(
    request: Request,
    post_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The edit form for one's own post."""
    user = page.require_user()
    with runtime.db.session() as session:
        post = posts.get_visible_post(session, page.viewer, post_id)
        if post.author_id != user.id:
            raise NotFound("No such post of yours.")
        return _edit_page(
            request,
            post,
            {"body": post.body_source, "title": post.title, "spoiler_text": post.spoiler_text},
        )


def _edit_page(
    request: Request,
    post: Post,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    fields: list[dict[str, Any]] = []
    if post.kind == PostKind.ARTICLE.value:
        fields.append({"name": "title", "label": "Title", "required": True})
    fields += [
        {"name": "spoiler_text", "label": "Content warning (optional)"},
        {"name": "body", "label": "Text", "type": "textarea", "rows": 8},
    ]
    if errors and "status" in errors:
        errors["body"] = errors.pop("status")
    return render(
        request,
        "form_page.html",
        {
            "heading": "Edit post",
            "action": f"/posts/{post.id}/edit",
            "fields": fields,
            "submit": "Save changes",
            "values": values,
            "errors": errors,
            "intro": "Earlier versions stay visible in the edit history.",
        },
        status_code=status,
    )


@router.post("/posts/{post_id}/edit")
def edit(
    request: Request,
    post_id: int,
    body: str = Form(""),
    title: str = Form(""),
    spoiler_text: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Save an edit (the previous version goes to the history)."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            current = session.scalars(
                select(Attachment.id).where(Attachment.post_id == post_id)
            ).all()
            draft = PostDraft(
                body=body, title=title, spoiler_text=spoiler_text, attachment_ids=list(current)
            )
            post = posts.edit_post(
                session,
                runtime.settings,
                session.get_one(User, user.id),
                post_id,
                draft,
                services=runtime.services,
            )
            target = _after_writing(session, post, _post_url(session, post))
    except ParvisError as exc:
        if exc.status_code != 422:
            raise
        with runtime.db.session() as session:
            post = posts.get_post(session, post_id)
            return _edit_page(
                request,
                post,
                {"body": body, "title": title, "spoiler_text": spoiler_text},
                errors_of(exc),
                exc.status_code,
            )
    return redirect(target)


@router.get("/posts/{post_id}/history")
def history(
    request: Request,
    post_id: int,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Every earlier version of an edited post."""
    with runtime.db.session() as session:
        post = posts.get_visible_post(session, page.viewer, post_id)
        return render(
            request,
            "history.html",
            {
                "post": post,
                "author": session.get_one(User, post.author_id),
                "revisions": posts.revisions(session, post_id),
            },
        )


@router.post("/posts/{post_id}/delete")
def delete(
    post_id: int,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Delete one's own post (a tombstone keeps the thread's shape)."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        posts.delete_post(session, session.get_one(User, user.id), post_id)
    return redirect(f"/@{user.username}")


def _act(
    request: Request,
    page: Page,
    runtime: Runtime,
    csrf_token: str,
    post_id: int,
    action: str,
    value: int = 0,
) -> Response:
    page.check_csrf(csrf_token or request.headers.get("x-csrf-token", ""))
    user = page.require_user()
    with runtime.db.session() as session:
        me = session.get_one(User, user.id)
        if action == "vote":
            posts.vote(session, me, post_id, value)
        elif action == "repost":
            posts.repost(session, me, post_id)
        elif action == "unrepost":
            posts.unrepost(session, me, post_id)
        else:
            posts.bookmark(session, me, post_id, on=action == "bookmark")
    if request.headers.get("hx-request"):
        with runtime.db.session() as session:
            view = build_view(session, page.viewer, posts.get_post(session, post_id))
            return render(request, "actions_partial.html", {"view": view})
    return back(request)


@router.post("/posts/{post_id}/vote")
def vote(
    request: Request,
    post_id: int,
    value: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Vote up (1), down (-1) or withdraw (0)."""
    if value not in ("1", "-1", "0"):
        raise InvalidInput("A vote is 1 (up), -1 (down) or 0 (withdraw).", field="value")
    return _act(request, page, runtime, csrf_token, post_id, "vote", int(value))


@router.post("/posts/{post_id}/{action}")
def post_action(
    request: Request,
    post_id: int,
    action: str,
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Repost, undo a repost, bookmark or remove a bookmark."""
    if action not in ("repost", "unrepost", "bookmark", "unbookmark"):
        raise NotFound("Unknown action.")
    return _act(request, page, runtime, csrf_token, post_id, action)


ARTICLE_FIELDS = [
    {"name": "title", "label": "Title", "required": True},
    {
        "name": "body",
        "label": "Text (Markdown: ## headings, **bold**, links)",
        "type": "textarea",
        "rows": 14,
        "required": True,
    },
]


@router.get("/articles/new")
def article_form(request: Request, page: Page = Depends(load_page)) -> Response:
    """Write a long-form article."""
    page.require_user()
    return render(
        request,
        "form_page.html",
        {
            "heading": "Write an article",
            "action": "/articles/new",
            "fields": ARTICLE_FIELDS,
            "submit": "Publish",
        },
    )


@router.post("/articles/new")
def article_create(
    request: Request,
    title: str = Form(""),
    body: str = Form(""),
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Publish an article; its replies become its comment thread."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    try:
        with runtime.db.session() as session:
            post = posts.create_post(
                session,
                runtime.settings,
                session.get_one(User, user.id),
                PostDraft(body=body, title=title, kind=PostKind.ARTICLE),
                services=runtime.services,
            )
            target = _post_url(session, post)
    except ParvisError as exc:
        errors = errors_of(exc)
        if "status" in errors:
            errors["body"] = errors.pop("status")
        return render(
            request,
            "form_page.html",
            {
                "heading": "Write an article",
                "action": "/articles/new",
                "fields": ARTICLE_FIELDS,
                "submit": "Publish",
                "values": {"title": title, "body": body},
                "errors": errors,
            },
            status_code=exc.status_code,
        )
    return redirect(target)


@router.get("/media/{key:path}")
def serve_media(key: str, runtime: Runtime = Depends(get_runtime)) -> Response:
    """An uploaded file (attachments of deleted posts are not served)."""
    with runtime.db.session() as session:
        attachment = session.scalar(select(Attachment).where(Attachment.storage_key == key))
        is_avatar = attachment is None and session.scalar(
            select(User.id).where(User.avatar_path == key)
        )
        if attachment is None and not is_avatar:
            raise NotFound("No such file.")
        if attachment is not None and attachment.post_id is not None:
            post = session.get(Post, attachment.post_id)
            if post is None or post.deleted_at is not None:
                raise NotFound("No such file.")
        content_type = attachment.content_type if attachment else None
    path = media.media_path(runtime.settings, key)
    if not path.exists():
        raise NotFound("No such file.")
    return FileResponse(
        path,
        media_type=content_type,
        headers={"Cache-Control": "public, max-age=86400", "Content-Disposition": "inline"},
    )
