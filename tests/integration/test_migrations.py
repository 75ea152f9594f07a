"""The schema is made by Alembic alone, and the migration head matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import portal.models  # noqa: F401
from portal import migrate
from portal.db import make_engine


def test_head_matches_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_database_is_at_head(database_url):
    engine = make_engine(database_url)
    assert migrate.is_current(engine)
    engine.dispose()
