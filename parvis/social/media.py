"""Attachments: images (re-encoded so EXIF and GPS metadata are gone) and PDF documents."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy.orm import Session

from parvis.accounts.models import User
from parvis.config import Settings
from parvis.errors import InvalidInput
from parvis.social.models import Attachment

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
ALLOWED_DESCRIPTION = "Allowed: JPEG, PNG, GIF or WebP images and PDF documents."


def _clean_image(data: bytes, settings: Settings) -> tuple[bytes, str, int, int]:
    """Decode and re-encode an image, dropping every metadata block (EXIF, GPS, XMP, ICC)."""
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            if image_format not in IMAGE_FORMATS:
                raise InvalidInput(f"Unsupported image type. {ALLOWED_DESCRIPTION}", field="file")
            if probe.width * probe.height > settings.max_image_pixels:
                raise InvalidInput("Image has too many pixels; scale it down.", field="file")
            probe.load()
            image = ImageOps.exif_transpose(probe) or probe
            output = io.BytesIO()
            if image_format == "JPEG":
                image.convert("RGB").save(output, "JPEG", quality=88, optimize=True)
            elif image_format == "GIF":
                image.save(output, "GIF", save_all=getattr(probe, "is_animated", False))
            elif image_format == "WEBP":
                image.save(output, "WEBP", quality=88)
            else:
                image.save(output, "PNG", optimize=True)
            return output.getvalue(), IMAGE_FORMATS[image_format], image.width, image.height
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"The image could not be read. {ALLOWED_DESCRIPTION}", "file") from exc


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        raise InvalidInput(f"Unsupported file type. {ALLOWED_DESCRIPTION}", field="file")
    try:
        reader = PdfReader(io.BytesIO(data))
        _ = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InvalidInput("The PDF is damaged or encrypted and cannot be read.", "file") from exc


def store_upload(
    session: Session,
    settings: Settings,
    owner: User,
    *,
    filename: str,
    data: bytes,
    description: str = "",
) -> Attachment:
    """Validate, clean and store an uploaded file; returns the unattached attachment row."""
    if not data:
        raise InvalidInput("The file is empty.", field="file")
    if len(description) > 1500:
        raise InvalidInput("Description: at most 1500 characters.", field="description")
    if data.startswith(b"%PDF-"):
        if len(data) > settings.max_document_bytes:
            limit_mb = settings.max_document_bytes // (1024 * 1024)
            raise InvalidInput(f"Documents may be at most {limit_mb} MB.", field="file")
        _check_pdf(data)
        content, content_type, width, height = data, "application/pdf", None, None
        kind = "document"
    else:
        if len(data) > settings.max_image_bytes:
            limit_mb = settings.max_image_bytes // (1024 * 1024)
            raise InvalidInput(f"Images may be at most {limit_mb} MB.", field="file")
        content, content_type, width_i, height_i = _clean_image(data, settings)
        width, height = width_i, height_i
        kind = "image"
    digest = hashlib.sha256(content).hexdigest()
    key = f"{digest[:2]}/{secrets.token_hex(12)}.{EXTENSIONS[content_type]}"
    path = settings.media_dir / key
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_durably(path, content)
    attachment = Attachment(
        owner_id=owner.id,
        kind=kind,
        content_type=content_type,
        storage_key=key,
        original_name=os.path.basename(filename)[:255],
        size=len(content),
        width=width,
        height=height,
        sha256=digest,
        description=description.strip(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def _write_durably(path: Path, content: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def media_path(settings: Settings, storage_key: str) -> Path:
    """Where a stored attachment lives on disk (the key never escapes the media folder)."""
    root = settings.media_dir.resolve()
    path = (root / storage_key).resolve()
    if not path.is_relative_to(root):
        raise InvalidInput("Bad media path.")
    return path
