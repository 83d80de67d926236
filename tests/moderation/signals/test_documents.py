"""Documents are read page by page and fingerprinted so that re-saved copies match and
unrelated documents do not."""

from __future__ import annotations

from parvis.moderation.signals.documents import distance, extract_text, fingerprint, near_duplicate
from tests.pdfs import dossier, make_pdf


def test_text_is_extracted_from_every_page() -> None:
    read = extract_text(dossier(pages=3))
    assert read.pages == 3
    assert "Vetting file page 3" in read.text
    assert "536-90-4399" in read.text


def test_resaved_copy_has_other_bytes_but_the_same_fingerprint() -> None:
    original, copy = dossier(), dossier(title="renamed copy")
    assert original != copy
    first, second = extract_text(original).text, extract_text(copy).text
    assert near_duplicate(fingerprint(first), fingerprint(second))


def test_lightly_edited_long_document_stays_near_and_unrelated_is_far() -> None:
    words = [f"term{(i * 7919) % 4001}" for i in range(6000)]
    edited = list(words)
    for i in range(0, 6000, 300):
        edited[i] = "redacted"
    base = fingerprint(" ".join(words))
    assert distance(base, fingerprint(" ".join(edited))) <= 3
    other = fingerprint(" ".join(f"other{(i * 104729) % 3001}" for i in range(6000)))
    assert distance(base, other) > 10


def test_unreadable_or_empty_documents_give_no_text_and_no_fingerprint() -> None:
    assert extract_text(b"%PDF-1.7 broken").text == ""
    assert fingerprint(extract_text(make_pdf([[]])).text) == ""
    assert distance("", "0" * 16) == 64
