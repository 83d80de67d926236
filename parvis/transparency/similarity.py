"""Near-identical texts: MinHash signatures over word shingles, grouped with LSH (datasketch).

MinHash estimates the Jaccard similarity of two shingle sets; LSH finds the candidate pairs
above a threshold without comparing every pair. Candidates are then confirmed with the exact
Jaccard similarity, so the figures shown are not estimates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from datasketch import MinHash, MinHashLSH

SHINGLE_WORDS = 3
MIN_WORDS = 4  # shorter texts ("thanks!") are identical by chance, not by copying
THRESHOLD = 0.8
PERMUTATIONS = 64
WORD_RE = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[str]:
    """The set of overlapping three-word sequences of a text (lower-cased, punctuation out)."""
    words = WORD_RE.findall(text.casefold())
    if len(words) < MIN_WORDS:
        return set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def jaccard(first: set[str], second: set[str]) -> float:
    """|A ∩ B| / |A ∪ B| (0 for two empty sets)."""
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def near_identical(
    texts: Iterable[tuple[int, str]], threshold: float = THRESHOLD
) -> list[tuple[int, int, float]]:
    """Pairs (id, id, similarity) of texts whose shingle sets' Jaccard similarity is at least
    `threshold`, each pair once with the smaller id first."""
    sets: dict[int, set[str]] = {}
    pairs: list[tuple[int, int, float]] = []
    lsh = MinHashLSH(threshold=threshold, num_perm=PERMUTATIONS)
    for key, text in texts:
        found = shingles(text)
        if not found:
            continue
        signature = MinHash(num_perm=PERMUTATIONS, seed=1)
        signature.update_batch([s.encode("utf-8") for s in found])
        sets[key] = found
        for other in lsh.query(signature):
            similarity = jaccard(found, sets[other])
            if similarity >= threshold:
                low, high = sorted((key, other))
                pairs.append((low, high, round(similarity, 3)))
        lsh.insert(key, signature)
    return pairs
