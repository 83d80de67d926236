"""A leaf's text is one fixed serialisation, whichever JSON library writes it, and its
commitments are keyed hashes anyone holding the salt can check."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys

from parvis.audit.leaves import canonical, commitment


def _standard(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_every_character_is_written_as_the_standard_library_writes_it() -> None:
    points = [p for p in range(sys.maxunicode + 1) if not 0xD800 <= p <= 0xDFFF]
    for start in range(0, len(points), 4096):
        text = "".join(map(chr, points[start : start + 4096]))
        data = {"text": text, "key \u00e9\u4e2d\U0001f600": [text[:10], None, True, 7]}
        assert canonical(data) == _standard(data)


def test_keys_are_sorted_by_code_point_and_values_keep_their_shape() -> None:
    data = {"\u00e9": 1, "z": {"b": [], "a": {}}, "Z": -(2**63), "\U0001f600": "x", "a": None}
    assert canonical(data) == _standard(data)
    assert canonical(data).startswith('{"Z":')


def test_what_the_fast_writer_refuses_is_written_by_the_standard_library() -> None:
    data = {"big": 2**70, "n": 1}
    assert canonical(data) == '{"big":1180591620717411303424,"n":1}'


def test_a_commitment_is_hmac_sha256_of_the_value_under_the_salt() -> None:
    salt = bytes(range(16))
    expected = hmac.new(salt, b"post:42", hashlib.sha256).hexdigest()
    assert commitment(salt, "post:42") == expected
