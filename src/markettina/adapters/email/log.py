"""A development mailer: it sends nothing and writes each message to the structured log, so
a developer without a mail server can still follow the links sign-up and reset send."""

from __future__ import annotations

from markettina.identity.mail import EmailMessage
from markettina.kernel.logs import get_logger

log = get_logger("markettina.email")


class DevelopmentLogMailer:
    """Not for production: the messages carry one-time sign-in links."""

    async def send(self, message: EmailMessage) -> None:
        log.warning(
            "email_not_sent_development_mailer",
            to=message.to,
            subject=message.subject,
            text=message.text,
        )
