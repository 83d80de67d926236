"""RFC 6962 (Certificate Transparency) Merkle tree hashing, proofs and their verification.

Hand-written on purpose: it is short, and the Python Merkle libraries (pymerkle and others)
either hash differently or return proofs in their own shapes, while witnesses and other CT
tooling expect exactly RFC 6962's leaf/node prefixes, audit paths and consistency proofs.

Proofs are computed without holding the tree: every proof element is the hash of a range of
leaves, and each such range splits into at most log2(n) complete, aligned subtrees ("nodes",
named by level and index). A caller fetches just those nodes from its store (`NodeSource`), so a
proof costs O(log n) lookups. Verification follows RFC 9162, sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from parvis.audit.hashing import sha256

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A complete, aligned subtree: (level, index) covers leaves index * 2**level and on,
# 2**level of them.
Node = tuple[int, int]
NodeSource = Callable[[Iterable[Node]], Mapping[Node, bytes]]


class ProofError(ValueError):
    """A proof does not verify (or cannot be computed for these sizes)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)  # short: see `audit.hashing`


def largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1): RFC 6962's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) from leaf hashes, straight from the RFC's definition (for small inputs)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = largest_power_below(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def decompose(start: int, end: int) -> list[Node]:
    """The complete aligned subtrees that make up leaves [start, end), left to right.

    For the ranges RFC 6962 proofs use (and for [0, n)), the range's MTH is these nodes'
    hashes folded from the right (`fold`).
    """
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine a range's subtree hashes (left to right) into the range's MTH."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form PATH(index, D[size]), in the RFC's order (leaf first)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs form PROOF(old_size, D[new_size]) (RFC 6962 2.1.2)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = largest_power_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    ranges.reverse()
    return ranges


def hashes_of(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[bytes]:
    """Each range's MTH, fetching every node needed from `source` in one call."""
    pieces = [decompose(start, end) for start, end in ranges]
    found = source({node for piece in pieces for node in piece})
    try:
        return [fold([found[node] for node in piece]) for piece in pieces]
    except KeyError as exc:
        raise ProofError(f"the store has no hash for subtree {exc.args[0]}") from exc


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """Check an audit path (RFC 9162 2.1.3.2); raises ProofError when it does not hold."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ProofError("the audit path is too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the audit path is too short")
    if result != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} leaves with this root")


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree of `new_size` extends the one of `old_size` (RFC 9162 2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree cannot shrink from {old_size} to {new_size} leaves")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError(f"two different roots for the same size {new_size}")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root of size {new_size}")


class Frontier:
    """The compact range of a growing tree: one hash per set bit of its size.

    Appending a leaf completes zero or more subtrees; `append` returns them so a store can keep
    every complete node (which is what makes proofs O(log n)).
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of the tree size")
        self.size = size
        self.hashes = list(hashes)

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        """Read the stored form (the hashes concatenated, largest subtree first)."""
        return cls(size, [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        """The stored form."""
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf hash; returns the subtrees of level >= 1 this completes."""
        completed: list[tuple[Node, bytes]] = []
        index, current, level = self.size, leaf, 0
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            completed.append(((level, index), current))
        self.hashes.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The tree head hash MTH(D[size])."""
        return fold(self.hashes)
