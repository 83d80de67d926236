"""The WebM splitter: init kept, blocks re-wrapped into self-contained clusters."""

from __future__ import annotations

import random

import pytest

from parvis.live.webm import (
    CLUSTER,
    SIMPLE_BLOCK,
    TIMECODE,
    WebmError,
    WebmSplitter,
    _header,
    recorder_like_stream,
)


def _blocks(cluster: bytes) -> tuple[int, list[bytes]]:
    element_id, size, head = _header(cluster, 0)  # type: ignore[misc]
    assert element_id == CLUSTER
    assert head + size == len(cluster)
    pos, timecode, payloads = head, -1, []
    while pos < len(cluster):
        child, child_size, child_head = _header(cluster, pos)  # type: ignore[misc]
        body = cluster[pos + child_head : pos + child_head + child_size]
        if child == TIMECODE:
            timecode = int.from_bytes(body, "big")
        elif child == SIMPLE_BLOCK:
            payloads.append(body[4:])
        pos += child_head + child_size
    return timecode, payloads


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_chunking_yields_the_header_once_and_every_block_in_order(seed: int) -> None:
    payloads = [i.to_bytes(4, "big") * 10 for i in range(2000)]
    data = b"".join(recorder_like_stream(payloads))
    splitter, inits, clusters, pos = WebmSplitter(), [], [], 0
    rng = random.Random(seed)
    while pos < len(data):
        step = rng.randint(1, 400)
        init, out = splitter.feed(data[pos : pos + step])
        pos += step
        inits += [init] if init else []
        clusters += out
    assert len(inits) == 1
    assert inits[0].startswith(bytes.fromhex("1a45dfa3"))
    got = [payload for cluster in clusters for payload in _blocks(cluster)[1]]
    assert got == payloads
    # Clusters after the 30 s mark carry the new cluster's timecode.
    assert _blocks(clusters[-1])[0] == 30000


def test_a_stream_not_starting_with_a_header_is_refused() -> None:
    chunks = recorder_like_stream([b"x" * 20] * 3)
    splitter = WebmSplitter()
    with pytest.raises(WebmError):
        splitter.feed(chunks[0][chunks[0].index(bytes.fromhex("1f43b675")) :])
