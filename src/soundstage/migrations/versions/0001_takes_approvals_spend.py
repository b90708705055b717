"""Takes, approvals and spending: the schema soundstage 0.1 created before migrations."""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "takes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slot", sa.String(200), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("design", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("engine", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("engine_version", sa.String(100), nullable=False),
        sa.Column("source_type", sa.String(60), nullable=False),
        sa.Column("prompt", sa.String, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("folder", sa.String, nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("slot", "version"),
        sa.UniqueConstraint("slot", "key"),
    )
    op.create_table(
        "approvals",
        sa.Column("slot", sa.String(200), primary_key=True),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("takes.id"), nullable=False),
        sa.Column("approved_at", sa.DateTime, nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "spend",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slot", sa.String(200), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(60), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("usd", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
