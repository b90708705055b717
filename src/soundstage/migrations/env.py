"""Alembic's entry point: runs the migrations on the connection ``soundstage.migrations.upgrade`` passes in."""

from alembic import context

from soundstage.db import Base

context.configure(connection=context.config.attributes["connection"], target_metadata=Base.metadata,
                  render_as_batch=True)   # SQLite changes a table by copying it; batch mode does that
with context.begin_transaction():
    context.run_migrations()
