"""Uploads: EXIF and GPS are stripped, types and sizes are checked."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from parvis.accounts.models import User
from parvis.errors import InvalidInput
from parvis.runtime import Runtime
from parvis.social import media
from tests.conftest import MakeUser


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    gps = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    exif[0x8825] = gps
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif.tobytes())
    return output.getvalue()


def _minimal_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def test_image_metadata_is_stripped(runtime: Runtime, make_user: MakeUser) -> None:
    owner = make_user("ana")
    data = _jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif()
    with runtime.db.session() as session:
        attachment = media.store_upload(
            session, runtime.settings, session.get_one(User, owner.id), filename="me.jpg", data=data
        )
        stored = media.media_path(runtime.settings, attachment.storage_key).read_bytes()
    cleaned = Image.open(io.BytesIO(stored))
    assert not cleaned.getexif()
    assert b"SpyCam" not in stored
    assert (attachment.kind, attachment.width, attachment.height) == ("image", 40, 30)


def test_pdf_is_accepted_as_document(runtime: Runtime, make_user: MakeUser) -> None:
    owner = make_user("ana")
    with runtime.db.session() as session:
        attachment = media.store_upload(
            session, runtime.settings, session.get_one(User, owner.id),
            filename="dossier.pdf", data=_minimal_pdf(),
        )  # fmt: skip
    assert attachment.kind == "document"
    assert attachment.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00 not an image", "could not be read"),
        (b"%PDF-1.7 broken", "damaged"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "could not be read"),
    ],
)
def test_bad_files_are_refused(
    runtime: Runtime, make_user: MakeUser, data: bytes, fragment: str
) -> None:
    owner = make_user("ana")
    with runtime.db.session() as session, pytest.raises(InvalidInput, match=fragment):
        media.store_upload(
            session, runtime.settings, session.get_one(User, owner.id), filename="x", data=data
        )


def test_oversized_image_is_refused(runtime: Runtime, make_user: MakeUser) -> None:
    owner = make_user("ana")
    runtime.settings.max_image_bytes = 1024
    with runtime.db.session() as session, pytest.raises(InvalidInput, match="at most"):
        media.store_upload(
            session, runtime.settings, session.get_one(User, owner.id),
            filename="big.jpg", data=_jpeg_with_gps() + b"\x00" * 2048,
        )  # fmt: skip


def test_media_path_cannot_escape_the_media_folder(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput):
        media.media_path(runtime.settings, "../secret_key")
