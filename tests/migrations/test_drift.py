"""The models and the migrated database describe the same schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from markettina.kernel.db.autogenerate import compare_type, include_object
from markettina.kernel.db.urls import DatabaseURLs
from markettina.schema import metadata

pytestmark = pytest.mark.migrations


# SQLAlchemy does not know pgvector's type; compare_type accounts for it
@pytest.mark.filterwarnings("ignore:Did not recognize type 'vector'")
def test_autogenerate_finds_no_difference_at_head(template_db: DatabaseURLs) -> None:
    engine = create_engine(template_db.owner, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": compare_type,
                    "compare_server_default": True,
                    "include_object": include_object,
                    "target_metadata": metadata,
                },
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
