"""Which PostgreSQL the service uses: the configured one, or the embedded one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...settings import Settings
from . import embedded
from .bootstrap import bootstrap
from .urls import DatabaseURLs


@dataclass(frozen=True)
class ServerChoice:
    urls: DatabaseURLs
    embedded_data_dir: Path | None  # None when an external server is configured

    @property
    def description(self) -> str:
        if self.embedded_data_dir is not None:
            return f"embedded PostgreSQL, data in {embedded.pgdata_path(self.embedded_data_dir)}"
        return f"PostgreSQL at {self.urls.admin.render_as_string(hide_password=True)}"


def from_settings(settings: Settings, *, stop_embedded_on_exit: bool = True) -> ServerChoice:
    """The server the settings name (or the embedded one), with roles and database ready."""
    return resolve(
        database_url=settings.database_url,
        database_name=settings.database_name,
        data_dir=settings.data_dir,
        owner_password=settings.owner_password,
        app_password=settings.app_password,
        stop_embedded_on_exit=stop_embedded_on_exit,
    )


def _secret(value: object | None) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else None


def resolve(
    *,
    database_url: str | None,
    database_name: str,
    data_dir: Path,
    owner_password: object | None = None,
    app_password: object | None = None,
    prepare: bool = True,
    stop_embedded_on_exit: bool = True,
) -> ServerChoice:
    """Find (or start) the server; with ``prepare``, create roles and database if missing."""
    if database_url:
        admin = database_url
        choice_dir = None
        name = None
    else:
        admin_url = embedded.start(data_dir, stop_on_exit=stop_embedded_on_exit)
        admin = admin_url.render_as_string(hide_password=False)
        choice_dir = data_dir
        name = database_name
    urls = DatabaseURLs.derive(
        admin,
        database=name,
        owner_password=_secret(owner_password),
        app_password=_secret(app_password),
    )
    if prepare:
        bootstrap(urls, owner_password=_secret(owner_password), app_password=_secret(app_password))
    return ServerChoice(urls=urls, embedded_data_dir=choice_dir)
