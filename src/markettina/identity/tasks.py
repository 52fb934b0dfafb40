"""Background jobs of the identity context: e-mail, and the daily purge of expired
sign-in tokens and ended failed sign-in counts."""

from __future__ import annotations

from procrastinate import RetryStrategy

from markettina.kernel.jobs import job_queue, maintenance_connection
from markettina.kernel.logs import get_logger

from .mail import EmailMessage, bound_mailer
from .social_revocation import secret_box

log = get_logger(__name__)

# a mail server that is down for a while: tries again after 5, 25, 125, 625 seconds
EMAIL_RETRY = RetryStrategy(max_attempts=5, exponential_wait=5)


@job_queue.task(name="identity.send_email", queue="email", retry=EMAIL_RETRY)
async def send_email(to: str, subject: str, sealed_text: str) -> None:
    """Deliver one e-mail through the mailer the worker bound at start; its body was
    encrypted by ``queue_email`` and opens with the worker's keys (the API's)."""
    text = secret_box().decrypt(sealed_text)
    await bound_mailer().send(EmailMessage(to=to, subject=subject, text=text))
    log.info("email_sent", subject=subject)


@job_queue.periodic(cron="53 2 * * *", periodic_id="purge-sign-in-tokens")
@job_queue.task(
    name="identity.purge_sign_in_tokens", queue="maintenance", queueing_lock="sign-in-tokens"
)
async def purge_sign_in_tokens(timestamp: int) -> int:
    """Refresh tokens and e-mail links expired for a week (the first token of a live
    session stays: it tells when the session signed in), and failed sign-in counts whose
    window and lock have ended; how many rows went."""
    async with await maintenance_connection() as conn:
        row = await (
            await conn.execute(
                "SELECT purge_expired_sign_in_tokens() + purge_ended_login_failures()"
            )
        ).fetchone()
        return int(row[0]) if row else 0
