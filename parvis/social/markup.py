"""The post Markdown subset: rendered with markdown-it, sanitised with nh3.

Links, #tags and @mentions are recognised and returned alongside the HTML so the caller can
store them. Raw HTML in the source is never passed through.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

TAG_RE = re.compile(r"(?<![\w/#])#([A-Za-z][\w]{0,99})")
MENTION_RE = re.compile(r"(?<![\w/@])@([A-Za-z0-9_]{3,30})\b")
ALLOWED_TAGS = {
    "p", "br", "a", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "del",
    "h2", "h3", "h4", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Rendered:
    """Safe HTML and what the text points at."""

    html: str
    tags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def _split_text(token: Token, state: StateCore) -> list[Token]:
    """Turn #tag and @name inside a text token into link tokens."""
    text = token.content
    pattern = re.compile(f"{TAG_RE.pattern}|{MENTION_RE.pattern}")
    pieces: list[Token] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() > position:
            plain = Token("text", "", 0)
            plain.content = text[position : match.start()]
            pieces.append(plain)
        if match.group(1):
            href, label, css = f"/tags/{match.group(1).lower()}", f"#{match.group(1)}", "hashtag"
        else:
            href, label, css = f"/@{match.group(2)}", f"@{match.group(2)}", "mention"
        opening = Token("link_open", "a", 1)
        opening.attrs = {"href": href, "class": css}
        inner = Token("text", "", 0)
        inner.content = label
        pieces += [opening, inner, Token("link_close", "a", -1)]
        position = match.end()
    if not pieces:
        return [token]
    if position < len(text):
        rest = Token("text", "", 0)
        rest.content = text[position:]
        pieces.append(rest)
    return pieces


def _tags_and_mentions(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        inside_link = 0
        for child in block.children:
            if child.type == "link_open":
                inside_link += 1
            elif child.type == "link_close":
                inside_link -= 1
            if child.type == "text" and not inside_link:
                children.extend(_split_text(child, state))
            else:
                children.append(child)
        block.children = children


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["linkify", "strikethrough"])
    md.disable(["image", "heading", "lheading", "html_block", "html_inline"])
    md.core.ruler.push("parvis_tags_mentions", _tags_and_mentions)
    return md


_post_md = _build()
_article_md = _build()
_article_md.enable(["heading"])


def render(source: str, *, article: bool = False) -> Rendered:
    """Render member-written Markdown to sanitised HTML and collect tags, mentions and links."""
    md = _article_md if article else _post_md
    tokens = md.parse(source)
    tags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for block in tokens:
        for child in block.children or []:
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href", ""))
            css = child.attrs.get("class")
            if css == "hashtag":
                _append_unique(tags, href.rsplit("/", 1)[-1])
            elif css == "mention":
                _append_unique(mentions, href.removeprefix("/@"))
            elif href.startswith(("http://", "https://")):
                _append_unique(links, href)
    raw_html = md.renderer.render(tokens, md.options, {})
    html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer ugc",
    )
    return Rendered(html=html, tags=tags, mentions=mentions, links=links)


def _append_unique(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def plain_text(html: str) -> str:
    """Text without markup, for search indexing, e-mail and notifications."""
    text = html_lib.unescape(nh3.clean(html.replace("</p>", "</p> "), tags=set()))
    return re.sub(r"\s+", " ", text).strip()
