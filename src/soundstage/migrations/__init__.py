"""Schema migrations for the project database (Alembic), run by ``open_database`` when a database is behind.

Why Alembic and not ``create_all``: a project outlives a release of soundstage, and its takes, approvals and
renders must come along when a table gains a column. Each change is one file in ``versions/``; bump
``soundstage.db.SCHEMA_HEAD`` with it. ``tests/test_database.py`` checks that the migrated schema is the
models' schema.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text

# Databases made before migrations existed (created straight from the models) are at this revision.
BASELINE = "0001"


def upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes opening a new database at once: the second waits here, then finds it migrated.
            connection.execute(text("SELECT pg_advisory_xact_lock(7305271)"))
        tables = inspect(connection).get_table_names()
        config.attributes["connection"] = connection
        if "takes" in tables and "alembic_version" not in tables:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
