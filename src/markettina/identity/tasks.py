"""Background jobs of the identity context."""

from __future__ import annotations

from procrastinate import RetryStrategy

from markettina.kernel.jobs import job_queue
from markettina.kernel.logs import get_logger

from .mail import EmailMessage, bound_mailer

log = get_logger(__name__)

# a mail server that is down for a while: tries again after 5, 25, 125, 625 seconds
EMAIL_RETRY = RetryStrategy(max_attempts=5, exponential_wait=5)


@job_queue.task(name="identity.send_email", queue="email", retry=EMAIL_RETRY)
async def send_email(to: str, subject: str, text: str) -> None:
    """Deliver one e-mail through the mailer the worker bound at start."""
    await bound_mailer().send(EmailMessage(to=to, subject=subject, text=text))
    log.info("email_sent", subject=subject)
