"""Outgoing e-mail: `.eml` files in the outbox folder by default, SMTP when configured."""

from __future__ import annotations

import os
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from parvis.config import Settings


class Mailer:
    """Sends plain-text e-mails. Failures to reach SMTP raise; callers decide whether to retry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, body: str) -> EmailMessage:
        """Send one message and return it (tests read the outbox file instead)."""
        message = EmailMessage()
        message["From"] = f"{self.settings.instance_name} <{self.settings.contact_email}>"
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.settings.domain.split(":")[0])
        message.set_content(body)
        if self.settings.smtp_host:
            self._send_smtp(message)
        else:
            self._write_outbox(message)
        return message

    def _write_outbox(self, message: EmailMessage) -> None:
        outbox = self.settings.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
        name = f"{stamp}.{now % 10**9:09d}-{uuid.uuid4().hex[:8]}.eml"  # sorts by send time
        temporary = outbox / f".{name}.tmp"
        temporary.write_bytes(bytes(message))
        os.replace(temporary, outbox / name)  # readers never see a half-written file

    def _send_smtp(self, message: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
