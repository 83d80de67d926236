"""Links: normalised URLs and registrable domains, matched against lists (e.g. hacked materials).

tldextract runs with its bundled public-suffix list only, so it never touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import tldextract

from parvis.moderation.enforcement import normalise_url
from parvis.moderation.signals.types import Signal

URL_RE = re.compile(r"https?://[^\s<>\"'()]+", re.IGNORECASE)
_extract = tldextract.TLDExtract(suffix_list_urls=())


def registrable_domain(url: str) -> str:
    """The domain someone registered (e.g. `leaks.co.uk` for `https://www.leaks.co.uk/x`)."""
    parts = _extract(url)
    if parts.top_domain_under_public_suffix:
        return parts.top_domain_under_public_suffix
    host = parts.fqdn or ".".join(p for p in (parts.subdomain, parts.domain) if p)
    return ".".join(host.split(".")[-2:])  # unknown suffix (e.g. .example, .local)


def detect(
    text: str, listed_urls: Collection[str] = (), listed_domains: Collection[str] = ()
) -> list[Signal]:
    """Every link, and whether its URL or registrable domain is on the given lists."""
    found = []
    for match in URL_RE.finditer(text):
        url = match.group().rstrip(".,;:!?")
        normal = normalise_url(url)
        domain = registrable_domain(normal)
        found.append(
            Signal(
                "url",
                match.start(),
                match.start() + len(url),
                1.0,
                {"url": normal, "domain": domain},
            )
        )
        if normal in listed_urls:
            found.append(
                Signal("listed_url", match.start(), match.start() + len(url), 1.0, {"url": normal})
            )
        if domain in listed_domains:
            found.append(
                Signal(
                    "listed_domain",
                    match.start(),
                    match.start() + len(url),
                    1.0,
                    {"domain": domain},
                )
            )
    return found
