"""The e-mail port: what a mailer does, the one mailer a worker binds at start, and the one
way to send mail from a use case (a job deferred on the use case's own transaction, its
body encrypted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.jobs import defer_in_transaction
from markettina.kernel.security import SecretBox


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


_bound: Mailer | None = None


def bind_mailer(mailer: Mailer | None) -> None:
    """Called by the entry point that runs the e-mail jobs (the worker), once, at start."""
    global _bound
    _bound = mailer


def bound_mailer() -> Mailer:
    if _bound is None:
        raise RuntimeError("no mailer is bound: the worker binds one at start (bind_mailer)")
    return _bound


async def queue_email(
    session: AsyncSession, *, box: SecretBox, to: str, subject: str, text: str
) -> None:
    """Send ``text`` to ``to`` from a worker, if and when the session's transaction commits.

    The body is stored encrypted with the service's keys (the worker decrypts it just
    before sending): it may carry a one-time link whose raw token is kept nowhere else
    (only its digest), and the jobs table keeps arguments for a week, readable by the app
    role. Encrypted, not rebuilt by the job: a digest cannot give the token back, and a
    token minted by the worker would outlive a rolled-back request or change on a retry."""
    from .tasks import send_email  # tasks imports this module

    await defer_in_transaction(
        session, send_email, to=to, subject=subject, sealed_text=box.encrypt(text)
    )
