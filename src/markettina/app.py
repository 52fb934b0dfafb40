"""Builds the FastAPI application: middleware, error handlers, routers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from . import __version__, kernel_api
from .billing import api as billing_api
from .bindings import bind_configured_platforms, bind_media, bind_payments
from .content import api as content_api
from .identity import api as identity_api
from .identity.plain_reads import lane_routes
from .identity.public import GUARDS, SECURITY_SCHEMES, admits
from .identity.read_lane import ReadLane
from .kernel import idempotency, rate_limits
from .kernel.db import migrations, server
from .kernel.db.autocommit import AutocommitPool
from .kernel.db.engine import open_database
from .kernel.db.lane_pool import LanePool
from .kernel.db.urls import DatabaseURLs, as_libpq_url
from .kernel.feature_flags import FlagChangeListener
from .kernel.logs import configure_logging, get_logger
from .kernel.secrets_store import resolve_secrets
from .kernel.web.health import health_router
from .kernel.web.nul_guard import NulGuard
from .kernel.web.openapi import document_problems
from .kernel.web.problems import install_problem_handlers
from .kernel.web.request_context import HttpMetrics, RequestContextMiddleware
from .settings import Settings, get_settings

log = get_logger(__name__)


def create_app(*, urls: DatabaseURLs | None = None, settings: Settings | None = None) -> FastAPI:
    """The API. ``urls`` names the database (by default: the configured or embedded one)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database_urls = urls or server.from_settings(settings).urls
        app.state.database = open_database(
            database_urls.app,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            timeout=settings.pool_timeout,
        )
        app.state.expected_heads = migrations.heads()
        app.state.settings = settings
        bind_configured_platforms(settings)
        bind_payments(settings)
        bind_media(settings)
        app.state.secrets = resolve_secrets(
            secret_key=settings.secret_key.get_secret_value() if settings.secret_key else None,
            encryption_keys=[k.get_secret_value() for k in settings.encryption_keys],
            data_dir=settings.data_dir,
            production=settings.environment == "production",
        )
        # this process's flag cache is emptied whenever a flag changes anywhere
        flag_listener = FlagChangeListener(as_libpq_url(database_urls.app))
        await flag_listener.start()
        app.state.flag_listener = flag_listener
        # rate-limit counts and idempotent responses, beside each request's transaction
        app.state.autocommit = AutocommitPool(
            as_libpq_url(database_urls.app), max_size=4, timeout=settings.pool_timeout
        )
        await app.state.autocommit.open()
        app.state.rate_limiter = rate_limits.RateLimiter(app.state.autocommit)
        app.state.address_limiter = rate_limits.address_limiter(
            app.state.autocommit,
            per_minute=settings.address_limit_per_minute,
            per_hour=settings.address_limit_per_hour,
        )
        # the read lane's transactions: psycopg straight, no ORM session
        app.state.read_pool = LanePool(
            as_libpq_url(database_urls.app),
            max_size=settings.pool_size,
            timeout=settings.pool_timeout,
        )
        log.info("api_started", database=database_urls.app.render_as_string(hide_password=True))
        try:
            yield
        finally:
            await app.state.read_pool.close()
            await app.state.autocommit.close()
            await flag_listener.stop()
            await app.state.database.dispose()

    registry = CollectorRegistry()
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)

    app = FastAPI(
        title="Markettina API",
        version=__version__,
        summary="AI-assisted marketing: campaigns, brand-true content, publishing, analytics.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(health_router(registry=registry))
    app.include_router(identity_api.router)
    app.include_router(billing_api.router)
    app.include_router(content_api.router)
    app.include_router(kernel_api.router)
    if settings.read_lane:  # the plain reads the routes declare, answered before routing
        app.add_middleware(ReadLane, routes=lane_routes(app))
    idempotency.install(app)  # middleware: recorder inside rate-limit headers inside the
    rate_limits.install(app)  # request context (the last added is the outermost)
    app.add_middleware(NulGuard)  # before anything reads a parameter, the read lane included
    app.add_middleware(RequestContextMiddleware, metrics=HttpMetrics(registry))
    idempotency.declare_header(app, claimed_by=admits)  # identity's pipeline claims keys
    document_problems(app, guards=GUARDS, security_schemes=SECURITY_SCHEMES)
    return app


def app_factory() -> FastAPI:
    """For ``uvicorn --factory markettina.app:app_factory``."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings=settings)
