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


def test_agents_sip_passwords_become_digests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0014: an agent's plain SIP password is replaced by its md5_cred digest; the
    phone's password still matches it."""
    from alembic import command
    from sqlalchemy import text

    from callcenter.core.sip_auth import sip_ha1

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0013")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO agents (username, display_name, extension, sip_password, "
                    "active, static_contact) VALUES ('ann', 'Ann', '1001', 's3cret-A', 1, '')"
                )
            )
        command.upgrade(config, "0014")
        with engine.connect() as connection:
            row = connection.execute(text("SELECT * FROM agents")).mappings().one()
        assert row["sip_ha1"] == sip_ha1("ann", "s3cret-A")
        assert "sip_password" not in row
    finally:
        engine.dispose()
