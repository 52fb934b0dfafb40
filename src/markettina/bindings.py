"""Binds the outside world's adapters to the ports the contexts own. Only the entry points
(app.py, worker.py, cli.py) call this."""

from __future__ import annotations

from .adapters.email import mailer_from_settings
from .adapters.payments import payment_gateway_from_settings
from .adapters.social import OAuth2Config, OAuth2Platform
from .adapters.storage import media_storage_from_settings
from .billing.payment_gateway import bind_payment_gateway
from .content.media_storage import bind_media_storage
from .identity.mail import bind_mailer
from .identity.social_ports import bind_platform
from .settings import Settings


def bind_configured_platforms(settings: Settings) -> None:
    for name, platform_settings in settings.oauth_platforms.items():
        bind_platform(name, OAuth2Platform(OAuth2Config.from_settings(platform_settings)))


def bind_payments(settings: Settings) -> None:
    """Stripe when configured; otherwise checkout and webhooks answer 503."""
    bind_payment_gateway(payment_gateway_from_settings(settings))


def bind_media(settings: Settings) -> None:
    """The media library's store: local disk by default, S3 when MEDIA_STORAGE=s3."""
    bind_media_storage(media_storage_from_settings(settings))


def bind_worker_adapters(settings: Settings) -> None:
    bind_mailer(mailer_from_settings(settings))
    bind_configured_platforms(settings)
