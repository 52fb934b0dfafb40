"""The test suite's PostgreSQL: one server per session, one migrated template database,
and per test either a rolled-back transaction or a fresh clone of the template."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from markettina.kernel.db import bootstrap, embedded, migrations
from markettina.kernel.db.urls import DatabaseURLs
from markettina.settings import default_data_dir

EXTERNAL_URL_VARIABLE = "MARKETTINA_TEST_DATABASE_URL"


def suite_data_dir() -> Path:
    configured = os.environ.get("MARKETTINA_TEST_DATA_DIR")
    if configured:
        return Path(configured)
    default = default_data_dir()
    return default.with_name(default.name + "-test")


def admin_url() -> tuple[str, bool]:
    """The test server's admin URL, and whether it is the embedded one."""
    external = os.environ.get(EXTERNAL_URL_VARIABLE)
    if external:
        return external, False
    url = embedded.start(suite_data_dir(), stop_on_exit=True)
    return url.render_as_string(hide_password=False), True


@dataclass
class SuiteDatabases:
    """Databases made for this test session; all dropped when it ends."""

    server: DatabaseURLs
    prefix: str = field(default_factory=lambda: f"mkt_test_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    created: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> SuiteDatabases:
        url, _ = admin_url()
        server = DatabaseURLs.derive(url, database="postgres")
        bootstrap.ensure_roles(server.admin)
        return cls(server=server)

    def empty(self, label: str = "db") -> DatabaseURLs:
        """A new database with the roles let in and nothing migrated."""
        name = f"{self.prefix}_{label}_{len(self.created)}"
        urls = self.server.with_database(name)
        bootstrap.create_database(urls.admin, name)
        bootstrap.prepare_database(urls.admin, name)
        self.created.append(name)
        return urls

    def migrated_template(self) -> DatabaseURLs:
        urls = self.empty("template")
        migrations.upgrade(urls.owner, "head")
        return urls

    def clone(self, template: DatabaseURLs, label: str = "clone") -> DatabaseURLs:
        name = f"{self.prefix}_{label}_{len(self.created)}"
        bootstrap.create_database(self.server.admin, name, template=template.database)
        self.created.append(name)
        return self.server.with_database(name)

    def drop(self, urls: DatabaseURLs) -> None:
        bootstrap.drop_database(self.server.admin, urls.database)
        if urls.database in self.created:
            self.created.remove(urls.database)

    def drop_all(self) -> None:
        for name in reversed(self.created):
            bootstrap.drop_database(self.server.admin, name)
        self.created.clear()

    @contextmanager
    def fresh(self, template: DatabaseURLs) -> Iterator[DatabaseURLs]:
        urls = self.clone(template)
        try:
            yield urls
        finally:
            self.drop(urls)
