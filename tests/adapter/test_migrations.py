"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from callcenter.adapters.db.migrate import alembic_config, current
from callcenter.adapters.db.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    from alembic import command

    config = alembic_config(database_url)
    head = current(database_url)
    command.downgrade(config, "base")
    assert current(database_url) is None
    command.upgrade(config, "head")
    assert current(database_url) == head
