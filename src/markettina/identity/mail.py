"""The e-mail port: what a mailer does, the one mailer a worker binds at start, and the one
way to send mail from a use case (a job deferred on the use case's own transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.jobs import defer_in_transaction


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


async def queue_email(session: AsyncSession, *, to: str, subject: str, text: str) -> None:
    """Send ``text`` to ``to`` from a worker, if and when the session's transaction commits."""
    from .tasks import send_email  # tasks imports this module

    await defer_in_transaction(session, send_email, to=to, subject=subject, text=text)
