"""E-mail adapters for the identity context's ``Mailer`` port."""

from __future__ import annotations

from markettina.identity.mail import Mailer
from markettina.settings import Settings

from .log import DevelopmentLogMailer
from .smtp import SmtpConfig, SmtpMailer


def mailer_from_settings(settings: Settings) -> Mailer:
    """SMTP when a host is configured; otherwise the development mailer, never in production
    (it would write one-time sign-in links to the log)."""
    if getattr(settings, "smtp_host", None):
        return SmtpMailer(SmtpConfig.from_settings(settings))
    if settings.environment == "production":
        raise RuntimeError("set MARKETTINA_SMTP_HOST: production sends real e-mail")
    return DevelopmentLogMailer()


__all__ = ["DevelopmentLogMailer", "SmtpConfig", "SmtpMailer", "mailer_from_settings"]
