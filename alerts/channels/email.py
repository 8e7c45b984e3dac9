"""E-mail channel: SMTP with smtplib, plain, STARTTLS or SMTPS, optional AUTH.

The target is one address or several separated by commas.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from brightwatch.alerts.channels.base import ChannelContext, DeliveryError, register_channel
from brightwatch.alerts.routing.notification import Notification


@register_channel("email")
class EmailChannel:
    key = "email"

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.channel_settings("email")

    @staticmethod
    def render(notification: Notification) -> dict[str, Any]:
        return {"subject": notification.subject(), "text": notification.text()}

    def _tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if not self.settings.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def send(self, target: str, payload: dict[str, Any], subject: str | None) -> None:
        self.send_keyed(target, payload, subject, None)

    def send_keyed(
        self, target: str, payload: dict[str, Any], subject: str | None, key: str | None
    ) -> None:
        """With `key`, the Message-ID is stable across attempts (`<key@brightwatch>`), so
        a mail system that drops duplicate Message-IDs drops the repeat after a crash."""
        s = self.settings
        recipients = [a.strip() for a in target.split(",") if a.strip()]
        if not recipients or any("@" not in a for a in recipients):
            raise DeliveryError(f"not an e-mail address list: {target!r}")
        msg = EmailMessage()
        msg["From"] = s.sender
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = str(payload.get("subject") or subject or "brightwatch notification")
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = f"<{key}@brightwatch>" if key else make_msgid(domain="brightwatch")
        msg.set_content(str(payload.get("text", "")))
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout_s, context=self._tls()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with client:
                if s.security == "starttls":
                    client.starttls(context=self._tls())
                if s.username:
                    password = s.password.get_secret_value() if s.password else ""
                    client.login(s.username, password)
                refused = client.send_message(msg, from_addr=s.sender, to_addrs=recipients)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {type(exc).__name__}: {exc}") from None
        if refused:
            raise DeliveryError(f"SMTP refused recipients: {', '.join(sorted(refused))}")
