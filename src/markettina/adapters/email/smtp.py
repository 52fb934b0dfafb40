"""The SMTP mailer: the standard library's smtplib, run in a thread so the event loop waits
for the mail server without blocking on it."""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import smtplib
import ssl
from dataclasses import dataclass

from markettina.identity.mail import EmailMessage
from markettina.settings import Settings

DEFAULT_SENDER = "Markettina <no-reply@markettina.local>"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True  # upgrade a plain connection (port 587)
    ssl: bool = False  # TLS from the first byte (port 465); starttls is then moot
    sender: str = DEFAULT_SENDER
    timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """Read the ``smtp_*`` settings; any the settings do not have keep their defaults."""
        password = getattr(settings, "smtp_password", None)
        if password is not None and hasattr(password, "get_secret_value"):
            password = password.get_secret_value()
        return cls(
            host=getattr(settings, "smtp_host", None) or "localhost",
            port=getattr(settings, "smtp_port", cls.port),
            username=getattr(settings, "smtp_username", None),
            password=password,
            starttls=getattr(settings, "smtp_starttls", cls.starttls),
            ssl=getattr(settings, "smtp_ssl", cls.ssl),
            sender=getattr(settings, "mail_from", None) or DEFAULT_SENDER,
            timeout_seconds=getattr(settings, "smtp_timeout_seconds", cls.timeout_seconds),
        )


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send_blocking, self._mime(message))

    def _mime(self, message: EmailMessage) -> email.message.EmailMessage:
        mime = email.message.EmailMessage()
        mime["From"] = self._config.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        mime["Message-ID"] = email.utils.make_msgid(domain=self._sender_domain())
        mime.set_content(message.text)
        return mime

    def _sender_domain(self) -> str:
        address = email.utils.parseaddr(self._config.sender)[1]
        return address.rpartition("@")[2] or "markettina.local"

    def _send_blocking(self, mime: email.message.EmailMessage) -> None:
        config = self._config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.ssl:
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        with smtp:
            if config.starttls and not config.ssl:
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mime)
