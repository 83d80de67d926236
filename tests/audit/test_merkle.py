"""RFC 6962 hashing and proofs: CT's published vectors, every tree size up to 64, tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import pytest

from parvis.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    Node,
    ProofError,
    consistency_ranges,
    hashes_of,
    inclusion_ranges,
    largest_power_below,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# The leaves and roots used by Certificate Transparency's own Merkle tree tests.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CT_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def reference_path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 6962 section 2.1.1 defines it."""
    if len(hashes) == 1:
        return []
    k = largest_power_below(len(hashes))
    if m < k:
        return [*reference_path(m, hashes[:k]), root_of(hashes[k:])]
    return [*reference_path(m - k, hashes[k:]), root_of(hashes[:k])]


def reference_proof(m: int, hashes: list[bytes], complete: bool = True) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 6962 section 2.1.2 defines it."""
    n = len(hashes)
    if m == n:
        return [] if complete else [root_of(hashes)]
    k = largest_power_below(n)
    if m <= k:
        return [*reference_proof(m, hashes[:k], complete), root_of(hashes[k:])]
    return [*reference_proof(m - k, hashes[k:], False), root_of(hashes[:k])]


def memory_source(hashes: list[bytes]):  # type: ignore[no-untyped-def]
    def fetch(nodes: Iterable[Node]) -> Mapping[Node, bytes]:
        return {(lv, i): root_of(hashes[i << lv : (i + 1) << lv]) for lv, i in nodes}

    return fetch


LEAVES_64 = [leaf_hash(f"entry {i}".encode()) for i in range(64)]


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"").hex() == CT_ROOTS[0]
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in CT_LEAVES[:size]]
    assert root_of(hashes).hex() == CT_ROOTS[size - 1]
    frontier = Frontier()
    for value in hashes:
        frontier.append(value)
    assert frontier.root().hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size"), sorted(CT_PATHS))
def test_audit_paths_match_the_vectors(index: int, size: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in CT_LEAVES[:size]]
    path = hashes_of(inclusion_ranges(index, size), memory_source(hashes))
    assert [p.hex() for p in path] == CT_PATHS[(index, size)]
    verify_inclusion(hashes[index], index, size, path, bytes.fromhex(CT_ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new"), sorted(CT_CONSISTENCY))
def test_consistency_proofs_match_the_vectors(old: int, new: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in CT_LEAVES[:new]]
    proof = hashes_of(consistency_ranges(old, new), memory_source(hashes))
    assert [p.hex() for p in proof] == CT_CONSISTENCY[(old, new)]
    verify_consistency(
        old, new, proof, bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    )


@pytest.mark.parametrize("size", range(1, 65))
def test_every_inclusion_proof_up_to_64_leaves_equals_the_rfc_and_verifies(size: int) -> None:
    hashes = LEAVES_64[:size]
    root = root_of(hashes)
    source = memory_source(hashes)
    for index in range(size):
        path = hashes_of(inclusion_ranges(index, size), source)
        assert path == reference_path(index, hashes)
        verify_inclusion(hashes[index], index, size, path, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(b"other"), index, size, path, root)
        if size > 1:
            with pytest.raises(ProofError):
                verify_inclusion(hashes[index], (index + 1) % size, size, path, root)


@pytest.mark.parametrize("new", range(1, 65))
def test_every_consistency_proof_up_to_64_leaves_equals_the_rfc_and_verifies(new: int) -> None:
    hashes = LEAVES_64[:new]
    new_root = root_of(hashes)
    source = memory_source(hashes)
    for old in range(new + 1):
        proof = hashes_of(consistency_ranges(old, new), source)
        if 0 < old < new:
            assert proof == reference_proof(old, hashes)
        old_root = root_of(hashes[:old])
        verify_consistency(old, new, proof, old_root, new_root)
        if 0 < old < new:
            with pytest.raises(ProofError):
                verify_consistency(old, new, proof, leaf_hash(b"forged"), new_root)
            with pytest.raises(ProofError):
                verify_consistency(old, new, proof, old_root, leaf_hash(b"forged"))


def test_any_flipped_bit_or_wrong_length_breaks_a_proof() -> None:
    hashes = LEAVES_64[:13]
    root, source = root_of(hashes), memory_source(hashes)
    path = hashes_of(inclusion_ranges(6, 13), source)
    for position in range(len(path)):
        bad = list(path)
        bad[position] = bytes([bad[position][0] ^ 1]) + bad[position][1:]
        with pytest.raises(ProofError):
            verify_inclusion(hashes[6], 6, 13, bad, root)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(hashes[6], 6, 13, path[:-1], root)
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(hashes[6], 6, 13, [*path, path[0]], root)
    proof = hashes_of(consistency_ranges(5, 13), source)
    with pytest.raises(ProofError):
        verify_consistency(5, 13, proof[:-1], root_of(hashes[:5]), root)
    with pytest.raises(ProofError):
        verify_consistency(13, 5, proof, root, root_of(hashes[:5]))


def test_frontier_reports_every_completed_subtree() -> None:
    frontier = Frontier()
    stored: dict[Node, bytes] = {}
    for value in LEAVES_64[:37]:
        stored.update(frontier.append(value))
    assert frontier.root() == root_of(LEAVES_64[:37])
    # 18 + 9 + 4 + 2 + 1 complete subtrees above 37 leaves
    assert len(stored) == 34
    assert stored[(5, 0)] == root_of(LEAVES_64[:32])
    assert stored[(2, 8)] == root_of(LEAVES_64[32:36])
    restored = Frontier.from_bytes(37, frontier.to_bytes())
    assert restored.root() == frontier.root()


@pytest.mark.parametrize("size", [2, 3, 7, 64, 1000, 65_537, 1_000_000, 2**40 + 3])
def test_proofs_are_logarithmic_in_size_and_in_stored_hashes_read(size: int) -> None:
    """A proof has at most ceil(log2 n) hashes, built from at most 2·ceil(log2 n) stored
    complete subtrees: O(log n) in size and in reads, at any size."""
    bound = (size - 1).bit_length()  # ceil(log2 size)
    asked: list[Node] = []

    def source(nodes: Iterable[Node]) -> Mapping[Node, bytes]:
        wanted = list(nodes)
        asked.extend(wanted)
        return dict.fromkeys(wanted, b"\x00" * 32)

    for index in {0, size // 3, size - 1}:
        asked.clear()
        assert len(hashes_of(inclusion_ranges(index, size), source)) <= bound
        assert len(asked) <= 2 * bound
    for old in {1, size // 2, size - 1}:
        asked.clear()
        assert len(hashes_of(consistency_ranges(old, size), source)) <= bound + 1
        assert len(asked) <= 2 * (bound + 1)
