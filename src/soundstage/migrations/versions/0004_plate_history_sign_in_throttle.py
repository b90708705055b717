"""The review app's plate history and sign-in counters; the plain CSRF tokens leave the logins table.

Each session's CSRF token is now derived from its cookie and never stored. The old column is dropped with
SQLite's secure_delete on, so the tokens it held are overwritten, not left in free pages of the file.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table("logins") as logins:
        logins.drop_column("csrf")
    op.create_table(
        "sign_in_tries",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("misses", sa.Integer, nullable=False),
        sa.Column("next_at", sa.DateTime, nullable=False),
        sa.Column("last_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sign_in_places",
        sa.Column("name", sa.String(100), sa.ForeignKey("crew.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("address", sa.String(100), primary_key=True),
        sa.Column("last_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "plate_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shot", sa.String(200), nullable=False, index=True),
        sa.Column("plate", sa.String(400), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("kept", sa.String(400), nullable=True),
        sa.Column("kept_sha256", sa.String(64), nullable=True),
        sa.Column("replaced_by", sa.String(100), nullable=False),
        sa.Column("replaced_at", sa.DateTime, nullable=False),
    )
