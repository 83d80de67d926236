"""Checking another instance from outside, through its public log endpoints only: the
remote half of `parvis audit verify --url`, and the fetching the witness does."""

from __future__ import annotations

from typing import Any

import httpx

from parvis.audit.heads import HeadError, SignedHead, unb64
from parvis.audit.merkle import ProofError, verify_consistency, verify_inclusion
from parvis.audit.outcome import Outcome
from parvis.audit.verify import TreeCheck

PREFIX = "/api/parvis/v1/log"
PAGE = 1000


class RemoteError(Exception):
    """The instance could not be reached or answered something unreadable."""


class LogClient:
    """A thin client for one instance's log endpoints."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.owned = client is None
        self.client = client or httpx.Client(timeout=30.0)

    def __enter__(self) -> LogClient:
        return self

    def __exit__(self, *_: object) -> None:
        if self.owned:
            self.client.close()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a log endpoint as JSON; raises RemoteError with a readable message."""
        url = f"{self.base_url}{PREFIX}{path}"
        try:
            response = self.client.get(
                url, params={k: v for k, v in params.items() if v is not None}
            )
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {url}: {exc}") from exc
        if response.status_code != 200:
            raise RemoteError(f"{url} answered {response.status_code}: {response.text[:200]}")
        try:
            data = response.json()
        except ValueError as exc:
            raise RemoteError(f"{url} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise RemoteError(f"{url} did not answer a JSON object")
        return data

    def public_key(self) -> bytes:
        """The instance's published Ed25519 key."""
        try:
            return unb64(self.get("/key").get("public_key"), "public_key", 32)
        except HeadError as exc:
            raise RemoteError(f"unreadable public key: {exc}") from exc

    def head(self) -> SignedHead:
        """The latest signed tree head."""
        try:
            return SignedHead.from_json(self.get("/head"))
        except HeadError as exc:
            raise RemoteError(f"unreadable tree head: {exc}") from exc

    def proof(self, path: str, field: str, **params: Any) -> list[bytes]:
        """A proof's list of hashes."""
        items = self.get(path, **params).get(field)
        if not isinstance(items, list):
            raise RemoteError(f"the {path} answer has no {field} list")
        try:
            return [unb64(item, field, 32) for item in items]
        except HeadError as exc:
            raise RemoteError(str(exc)) from exc

    def stored_heads(self) -> list[SignedHead]:
        """Every head the instance has signed."""
        found: list[SignedHead] = []
        after = -1
        while True:
            page = self.get("/heads", after=after, limit=PAGE).get("heads")
            if not isinstance(page, list) or not page:
                return found
            try:
                batch = [SignedHead.from_json(item) for item in page]
            except HeadError as exc:
                raise RemoteError(f"unreadable stored head: {exc}") from exc
            found.extend(batch)
            after = batch[-1].tree_size


def verify_remote(
    base_url: str,
    *,
    pinned_key: bytes | None = None,
    sample: int = 20,
    client: httpx.Client | None = None,
) -> Outcome:
    """Download the log, rebuild it, and check the heads, consistency and inclusion proofs the
    instance serves. Raises RemoteError when the instance cannot be read at all."""
    with LogClient(base_url, client) as api:
        return _verify(api, pinned_key, sample)


def _verify(api: LogClient, pinned_key: bytes | None, sample: int) -> Outcome:
    outcome = Outcome(api.base_url)
    key = api.public_key()
    if pinned_key is not None and key != pinned_key:
        outcome.add(None, "the instance publishes another key than the one you gave")
        key = pinned_key
    latest = api.head()
    heads = {head.tree_size: head for head in api.stored_heads()}
    if heads.get(latest.tree_size, latest) != latest:
        outcome.add(None, f"two different signed heads for size {latest.tree_size}")
    heads[latest.tree_size] = latest
    sampled = _sample(latest.tree_size, sample)
    check = TreeCheck(outcome, heads, keep=sampled)
    start = 0
    while start < latest.tree_size:
        page = api.get("/leaves", start=start, end=latest.tree_size).get("leaves")
        if not isinstance(page, list) or not page:
            break
        for item in page:
            try:
                index, data = int(item["leaf_index"]), str(item["leaf_input"])
                stored = unb64(item.get("leaf_hash"), "leaf_hash", 32)
            except (KeyError, TypeError, ValueError) as exc:
                raise RemoteError(f"unreadable leaf after {start}: {exc}") from exc
            check.add(index, data, stored)
            start = index + 1
    check.check_heads(list(heads.values()), key)
    for size, head in sorted(heads.items()):
        if size == latest.tree_size:
            continue
        try:
            proof = api.proof(
                "/proof/consistency", "consistency", first=size, second=latest.tree_size
            )
            verify_consistency(size, latest.tree_size, proof, head.root_hash, latest.root_hash)
        except (ProofError, RemoteError) as exc:
            outcome.add(None, f"the head of size {size} is not consistent with the latest: {exc}")
    for index in sampled:
        try:
            path = api.proof(
                "/proof/inclusion", "audit_path", leaf_index=index, tree_size=latest.tree_size
            )
            own = check.leaf_hashes.get(index)
            if own is None:
                continue
            verify_inclusion(own, index, latest.tree_size, path, latest.root_hash)
        except (ProofError, RemoteError) as exc:
            outcome.add(index, f"its inclusion proof does not verify: {exc}")
    return outcome


def _sample(size: int, count: int) -> list[int]:
    if size == 0 or count <= 0:
        return []
    if count >= size:
        return list(range(size))
    step = (size - 1) / max(count - 1, 1)
    return sorted({round(i * step) for i in range(count)})
