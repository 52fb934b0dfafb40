"""The three ways the service connects to PostgreSQL, derived from one server address."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

OWNER_ROLE = "markettina_owner"
APP_ROLE = "markettina_app"
DRIVER = "postgresql+psycopg"


def as_sqlalchemy_url(url: str | URL) -> URL:
    """Any postgres:// or postgresql:// URL, with psycopg 3 as the driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=DRIVER)


def as_libpq_url(url: URL) -> str:
    """The same address as a plain libpq connection string (for psql and raw psycopg)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _as_role(url: URL, role: str, password: str | None) -> URL:
    """The same server as another role (never with the admin's password)."""
    return URL.create(
        drivername=url.drivername,
        username=role,
        password=password,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )


@dataclass(frozen=True)
class DatabaseURLs:
    """admin creates roles and databases; owner runs migrations; app serves requests."""

    admin: URL
    owner: URL
    app: URL

    @property
    def database(self) -> str:
        assert self.app.database is not None
        return self.app.database

    @classmethod
    def derive(
        cls,
        admin: str | URL,
        *,
        database: str | None = None,
        owner_password: str | None = None,
        app_password: str | None = None,
    ) -> DatabaseURLs:
        admin_url = as_sqlalchemy_url(admin)
        name = database or admin_url.database
        if not name:
            raise ValueError("the database URL names no database")
        return cls(
            admin=admin_url.set(database=name),
            owner=_as_role(admin_url, OWNER_ROLE, owner_password).set(database=name),
            app=_as_role(admin_url, APP_ROLE, app_password).set(database=name),
        )

    def with_database(self, name: str) -> DatabaseURLs:
        return DatabaseURLs(
            admin=self.admin.set(database=name),
            owner=self.owner.set(database=name),
            app=self.app.set(database=name),
        )
