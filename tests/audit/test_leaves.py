"""A leaf's text is one fixed serialisation, whichever JSON library writes it, and its
commitments are keyed hashes anyone holding the salt can check."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

from parvis.audit.leaves import canonical, commitment, decision_leaf


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


def _decision_row(statement_json: str) -> SimpleNamespace:
    moment = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    return SimpleNamespace(
        id=7,
        subject_type="post",
        subject_key="42",
        rule_id="doxxing",
        rulebook_version=1,
        action="remove",
        features="",
        facts="Automated detection found a national identifier with a street address.",
        automated_detection=True,
        automated_decision="fully",
        source="own_initiative",
        territorial_scope="AT BE",
        starts_at=moment,
        ends_at=None,
        created_at=moment,
        supersedes_id=None,
        statement_json=statement_json,
    )


def test_a_statement_written_canonically_is_taken_as_it_is_and_reads_as_if_parsed() -> None:
    statement = {"puid": "parvis-decision-7", "\u00e9t\u00e9": ["\U0001f600", None], "a": 1}
    row = _decision_row(canonical(statement))
    salt = bytes(range(16))
    parsed = decision_leaf(row, salt)
    taken = decision_leaf(row, salt, canonical_statement=True)
    assert taken.data(3) == parsed.data(3)
    assert json.loads(taken.data(3))["statement"] == statement


def test_a_statement_in_another_form_is_parsed_so_its_leaf_stays_canonical() -> None:
    row = _decision_row('{ "b": 1,  "a": 2 }')  # an older row, spaced and unsorted
    data = decision_leaf(row, bytes(16)).data(0)
    assert '"statement":{"a":2,"b":1}' in data


def test_a_taken_statement_survives_the_standard_library_fallback() -> None:
    written = {"statement": '{"a":[1,2]}'}
    assert canonical({"big": 2**70, "z": 0}, written) == (
        '{"big":1180591620717411303424,"statement":{"a":[1,2]},"z":0}'
    )
    assert canonical({"big": 1, "z": 0}, written) == '{"big":1,"statement":{"a":[1,2]},"z":0}'
