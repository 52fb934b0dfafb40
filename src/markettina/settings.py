"""One Settings object for the whole service (environment prefix ``MARKETTINA_``)."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where the embedded PostgreSQL keeps its data.

    As root the wheel runs PostgreSQL as a system user and widens the permissions of every
    parent folder of the data directory; under /root that would open the administrator's
    home to everyone, so root gets /var/lib/markettina, whose parents are world-readable
    already. Anyone else gets their own per-user data directory.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/markettina")
    return Path(platformdirs.user_data_dir("markettina", appauthor=False))


class OAuthPlatformSettings(BaseModel):
    """One social platform spoken to through the generic OAuth 2.0 adapter."""

    authorize_url: str
    token_url: str
    profile_url: str
    client_id: str
    client_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=list)
    scope_separator: str = " "
    client_auth: Literal["body", "basic"] = "body"
    profile_fields: dict[str, str] = Field(default_factory=dict)  # e.g. {"platform_user_id": "sub"}
    revocation_url: str | None = None  # RFC 7009: tokens are revoked there on disconnect


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKETTINA_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    database_url: str | None = Field(
        default=None,
        description=(
            "An administrative URL of an existing PostgreSQL server (a role that may create "
            "roles and databases). Unset: an embedded PostgreSQL is started under data_dir."
        ),
    )
    database_name: str = Field(
        default="markettina",
        description="Database used on the embedded server (an external URL names its own).",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    owner_password: SecretStr | None = Field(
        default=None, description="Password of markettina_owner, for servers that ask for one."
    )
    app_password: SecretStr | None = Field(
        default=None, description="Password of markettina_app, for servers that ask for one."
    )
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_max_overflow: int = Field(default=10, ge=0, le=200)
    # seconds a request waits for a free connection (of any of the process's pools)
    pool_timeout: float = Field(default=30.0, gt=0, le=600)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # API processes behind the one port; the architecture's choice is one per core
    api_workers: int = Field(default=1, ge=1, le=64)
    # attempts per client address on the anonymous routes (sign-in, registration, reset)
    address_limit_per_minute: int = Field(default=20, ge=1, le=100_000)
    address_limit_per_hour: int = Field(default=200, ge=1, le=1_000_000)
    # plain list reads answered without the web framework (identity/read_lane.py)
    read_lane: bool = True
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # None: JSON lines unless stderr is a terminal (then readable console lines)
    log_json: bool | None = None

    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens. Unset outside production: generated once and kept "
        "in data_dir/secrets.json.",
    )
    encryption_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Fernet keys for secrets at rest, newest first (rotation keeps old ones "
        "readable). Unset outside production: generated once, like secret_key.",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    login_max_failures: int = Field(
        default=5, ge=1, le=100,
        description="Failed logins of one person from one client address, within the "
        "lockout window, that lock that address out.",
    )  # fmt: skip
    login_max_failures_all_clients: int = Field(
        default=50, ge=1, le=10_000,
        description="Failed logins of one person from all client addresses together, within "
        "the lockout window, that lock every address out (guessing spread over many).",
    )  # fmt: skip
    login_lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60,
        description="How long failures count, and how long a lock lasts.",
    )  # fmt: skip
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Links in e-mails point here."
    )

    smtp_host: str | None = Field(
        default=None, description="Unset: the development mailer writes e-mails to the log."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=300)
    mail_from: str = "Markettina <no-reply@markettina.local>"

    stripe_secret_key: SecretStr | None = Field(
        default=None, description="Stripe API key (sk_...). Unset: checkout answers 503."
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Signing secret of the Stripe webhook endpoint (whsec_...). Unset: "
        "webhooks answer 503.",
    )
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        description="Where the Stripe SDK sends requests (tests point it at a local fake).",
    )
    checkout_success_url: str = Field(
        default="http://127.0.0.1:8000/billing/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        description="Where Stripe sends the buyer after paying.",
    )
    checkout_cancel_url: str = Field(
        default="http://127.0.0.1:8000/billing/checkout/cancelled",
        description="Where Stripe sends the buyer who gives up.",
    )
    vat_rate: Decimal = Field(
        default=Decimal("0.22"), ge=0, le=1, max_digits=5, decimal_places=4,
        description="VAT included in package prices, as a fraction (0.22 = 22%).",
    )  # fmt: skip
    seller_name: str = Field(default="Markettina", description="The seller on invoices.")
    seller_address: str = Field(default="", description="The seller's address on invoices.")
    seller_vat_id: str = Field(default="", description="The seller's VAT id on invoices.")

    oauth_platforms: dict[str, OAuthPlatformSettings] = Field(
        default_factory=dict,
        description="Social platforms by name, as JSON: MARKETTINA_OAUTH_PLATFORMS="
        '{"linkedin": {"authorize_url": "...", "token_url": "...", "profile_url": "...", '
        '"client_id": "...", "client_secret": "...", "scopes": ["..."]}}. None by default.',
    )

    event_retention_months: int = Field(
        default=6, ge=1, le=120, description="Processed domain events are kept this long."
    )
    webhooks_allow_loopback: bool = Field(
        default=False,
        description="Let webhooks reach loopback addresses (tests and local development "
        "only); private, link-local and other non-public addresses stay refused.",
    )
    webhooks_timeout_seconds: float = Field(
        default=10, gt=0, le=60, description="A webhook attempt's whole time budget."
    )
    webhooks_max_retry_delay_seconds: float = Field(
        default=3600,
        ge=0,
        le=7 * 24 * 3600,
        description="Cap on the exponential backoff between a webhook's attempts.",
    )
    webhooks_disable_after_failures: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="An endpoint is disabled after this many failed attempts in a row...",
    )
    webhooks_disable_after_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 90,
        description="...the first of them at least this many hours ago.",
    )
    webhooks_sweep_seconds: int = Field(
        default=15,
        ge=1,
        le=60,
        description="Deliveries whose worker died are put back in the queue at the seconds "
        "of each minute that are multiples of this (best a divisor of 60).",
    )
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    worker_queues: list[str] = Field(default_factory=list)
    extra_task_modules: list[str] = Field(
        default_factory=list,
        description="More modules the worker imports at start, after its own (their jobs "
        'and event handlers register on import), as JSON: ["package.module"].',
    )

    # --- media library (content/media_*.py; docs/api.md, Media library) ---
    media_max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1024, le=5 * 1024**3,
        description="The largest file one upload may carry; a larger one is refused (413) "
        "as soon as its size is known, before the rest is read.",
    )  # fmt: skip
    media_quota_bytes_by_plan: dict[str, int] = Field(
        default_factory=lambda: {
            "free": 1024**3, "starter": 10 * 1024**3, "pro": 50 * 1024**3,
            "agency": 200 * 1024**3, "enterprise": 1024**4,
        },
        description="Bytes of media an account may keep, by its plan (accounts.plan_tier), "
        'as JSON: {"free": 1073741824, ...}. A plan not named gets media_quota_bytes_default; '
        "the feature flag media_storage_quota (config quota_bytes) overrides it per account.",
    )  # fmt: skip
    media_quota_bytes_default: int = Field(default=1024**3, ge=0)
    media_max_image_pixels: int = Field(
        default=50_000_000, ge=1, le=1_000_000_000,
        description="Width x height beyond which an image is refused (a decompression bomb).",
    )  # fmt: skip
    media_storage: Literal["local", "s3"] = Field(
        default="local", description="Where media bytes are kept: local disk or S3."
    )
    media_dir: Path | None = Field(
        default=None, description="The local store's folder. Unset: data_dir/media."
    )
    media_s3_bucket: str | None = None
    media_s3_prefix: str = Field(default="", description="Key prefix inside the bucket.")
    media_s3_region: str = "us-east-1"
    media_s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible server (MinIO, R2, ...). Unset: AWS."
    )
    media_s3_access_key_id: SecretStr | None = None
    media_s3_secret_access_key: SecretStr | None = None
    media_link_seconds: int = Field(
        default=3600, ge=1, le=7 * 24 * 3600,
        description="Default lifetime of a signed download link (at most 7 days).",
    )  # fmt: skip


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
