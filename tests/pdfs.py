"""Small real PDFs with text, made with pypdf, for document tests (no binary fixtures)."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], title: str = "Document") -> bytes:
    """A PDF whose pages hold these lines of text in Helvetica."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 750 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dossier(pages: int = 3, *, title: str = "Vetting file") -> bytes:
    """A vetting-file-like dossier: prose pages, one holding a home address and an SSN.
    Another `title` gives other bytes (another SHA-256) for the same text."""
    body = []
    for number in range(pages):
        lines = [
            f"Vetting file page {number + 1}",
            f"Interview notes {number} on campaign finance and staffing in district {number}.",
            f"Source {number} described meetings held between March and June with donors.",
            f"The committee reviewed filings {number * 7} times before the primary vote.",
        ]
        if number == 1:
            lines += ["He lives at 1600 Pennsylvania Avenue.", "SSN 536-90-4399"]
        body.append(lines)
    return make_pdf(body, title=title)
