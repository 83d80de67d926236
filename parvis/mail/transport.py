"""Handing messages over: `.eml` files in the outbox folder by default, SMTP when configured.
Only the outbox loop calls this (`mail.outbox`), never a request."""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from parvis.config import Settings


def message(
    settings: Settings, to: str, subject: str, body: str, *, queue_id: int | None = None
) -> EmailMessage:
    """A plain-text message from the instance. Its Message-ID names the queued row it came
    from (`mail.<id>` in it), so an operator can match a delivered message to
    `outgoing_mail`, and the order messages were queued in survives several senders."""
    built = EmailMessage()
    built["From"] = f"{settings.instance_name} <{settings.contact_email}>"
    built["To"] = to
    built["Subject"] = subject
    built["Date"] = formatdate(localtime=False)
    built["Message-ID"] = make_msgid(
        idstring=f"mail.{queue_id}" if queue_id is not None else None,
        domain=settings.domain.split(":")[0],
    )
    built.set_content(body)
    return built


def hand_over(settings: Settings, messages: Sequence[EmailMessage]) -> None:
    """Deliver messages (one SMTP connection for all of them); raises when SMTP fails."""
    if not messages:
        return
    if settings.smtp_host:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for one in messages:
                smtp.send_message(one)
        return
    for one in messages:
        write_outbox_file(settings, one)


def write_outbox_file(settings: Settings, one: EmailMessage) -> None:
    """Write one message as an `.eml` file, atomically (readers never see half a file)."""
    outbox = settings.outbox_dir
    outbox.mkdir(parents=True, exist_ok=True)
    now = time.time_ns()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
    name = f"{stamp}.{now % 10**9:09d}-{uuid.uuid4().hex[:8]}.eml"  # sorts by send time
    temporary = outbox / f".{name}.tmp"
    temporary.write_bytes(bytes(one))
    os.replace(temporary, outbox / name)
