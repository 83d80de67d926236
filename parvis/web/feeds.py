"""Reading pages: home, public, tags, articles, bookmarks, search, notifications, ranks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from parvis.accounts.models import User
from parvis.moderation.enforcement import post_restrictions
from parvis.runtime import Runtime, get_runtime
from parvis.social import feeds, notifications, search
from parvis.social.markup import plain_text
from parvis.social.models import Post
from parvis.social.rows import AnyPost
from parvis.social.views import build_views
from parvis.social.visibility import Viewer
from parvis.web.common import PAGE_SIZE, next_url, page_query, redirect
from parvis.web.session import Page, load_page
from parvis.web.templating import render

router = APIRouter()


def _feed_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    posts: Sequence[AnyPost],
    heading: str,
    base: str,
    **extra: Any,
) -> Response:
    context = {
        "heading": heading,
        "views": build_views(session, viewer, posts),
        "next_url": next_url(base, posts),
        **extra,
    }
    return render(request, "feed.html", context)


@router.get("/")
def home(
    request: Request,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Signed in: the home feed with the composer. Anonymous: the public feed."""
    with runtime.db.session() as session:
        if page.user is None:
            posts = feeds.public(session, page.viewer, page_query(max_id))
            return _feed_page(
                request, session, page.viewer, posts, "The square", "/public", invite=True
            )
        posts = feeds.home(session, page.viewer, page_query(max_id))
        intro = None
        if page.user.email_verified_at is None:
            intro = "Confirm your e-mail address (see the link we sent) to start posting."
        return _feed_page(
            request,
            session,
            page.viewer,
            posts,
            "Home",
            "/",
            show_composer=True,
            intro=intro or "People you follow, newest first. Nothing injected.",
        )


@router.get("/public")
def public(
    request: Request,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Every public post on the instance, newest first."""
    with runtime.db.session() as session:
        posts = feeds.public(session, page.viewer, page_query(max_id))
        return _feed_page(
            request,
            session,
            page.viewer,
            posts,
            "Public feed",
            "/public",
            invite=True,
            intro="Everything posted here, newest first.",
        )


@router.get("/tags/{name}")
def tag(
    request: Request,
    name: str,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Posts carrying a #tag."""
    with runtime.db.session() as session:
        posts = feeds.tag(session, page.viewer, name, page_query(max_id))
        return _feed_page(
            request, session, page.viewer, posts, f"#{name.lower()}", f"/tags/{name.lower()}"
        )


@router.get("/articles")
def articles(
    request: Request,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Long-form articles, newest first."""
    with runtime.db.session() as session:
        posts = feeds.articles(session, page.viewer, page_query(max_id))
        intro = "Long-form pieces with their comment threads."
        if page.user:
            intro += " Write one: /articles/new."
        return _feed_page(
            request,
            session,
            page.viewer,
            posts,
            "Articles",
            "/articles",
            intro=intro,
            write_link=True,
        )


@router.get("/bookmarks")
def bookmarks(
    request: Request,
    max_id: int | None = None,
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The member's saved posts."""
    page.require_user()
    with runtime.db.session() as session:
        posts = feeds.bookmarks(session, page.viewer, page_query(max_id))
        return _feed_page(request, session, page.viewer, posts, "Bookmarks", "/bookmarks")


@router.get("/search")
def search_page(
    request: Request,
    q: str = "",
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Search posts (words or #tag) and people."""
    q = q.strip()[:200]
    with runtime.db.session() as session:
        posts = search.search_posts(session, page.viewer, q, limit=PAGE_SIZE) if q else []
        people = search.search_accounts(session, page.viewer, q, limit=10) if q else []
        return render(
            request,
            "search.html",
            {"q": q, "views": build_views(session, page.viewer, posts), "accounts": people},
        )


@router.get("/notifications")
def notifications_page(
    request: Request, page: Page = Depends(load_page), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The member's notifications, newest first."""
    page.require_user()
    with runtime.db.session() as session:
        rows = notifications.list_notifications(session, page.viewer, limit=50)
        actor_ids = {row.actor_id for row in rows}
        post_ids = {row.post_id for row in rows if row.post_id}
        actors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(actor_ids)))}
        posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(post_ids)))}
        restrictions = post_restrictions(session, post_ids)
        authors = {
            u.id: u.username
            for u in session.scalars(
                select(User).where(User.id.in_({p.author_id for p in posts.values()}))
            )
        }
        items = []
        for row in rows:
            post = posts.get(row.post_id or 0)
            restriction = restrictions.get(post.id) if post else None
            if restriction is not None and (restriction.removed or restriction.interstitial):
                # Removed (its author's notice) or behind a warning: no text here.
                excerpt = f"a post restricted under the rule “{restriction.rule_id}”"
            elif post is not None:
                excerpt = post.title or plain_text(post.body_html)[:80]
            else:
                excerpt = ""
            items.append(
                {
                    "notification": row,
                    "actor": actors[row.actor_id],
                    "post": post,
                    "post_author": authors.get(post.author_id) if post else None,
                    "excerpt": excerpt or "(post)",
                }
            )
        return render(request, "notifications.html", {"items": items})


@router.post("/notifications/read")
def mark_read(
    csrf_token: str = Form(""),
    page: Page = Depends(load_page),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """Mark every notification as read."""
    page.check_csrf(csrf_token)
    user = page.require_user()
    with runtime.db.session() as session:
        notifications.mark_all_read(session, user.id)
    return redirect("/notifications")


@router.get("/about/ranks")
def ranks(request: Request, page: Page = Depends(load_page)) -> Response:
    """How member ranks are earned."""
    return render(request, "ranks.html", {})
