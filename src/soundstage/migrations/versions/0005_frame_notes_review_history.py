"""Notes on a frame (with a drawing), the history of approvals and shot statuses, each member's language, and
playlists for dailies."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes") as notes:
        notes.add_column(sa.Column("frame", sa.Integer, nullable=True))
        notes.add_column(sa.Column("drawing", sa.JSON, nullable=True))
    with op.batch_alter_table("crew") as crew:
        crew.add_column(sa.Column("language", sa.String(5), nullable=False, server_default="en"))
    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("take_id", sa.Integer, sa.ForeignKey("takes.id"), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "playlists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("made_by", sa.String(100), nullable=False),
        sa.Column("made_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "playlist_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("playlist_id", sa.Integer, sa.ForeignKey("playlists.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("shot", sa.String(200), nullable=False),
        sa.Column("movie", sa.String(400), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("note", sa.String, nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", sa.DateTime, nullable=False),
    )
    # Approvals given before the history existed are its first entries.
    op.execute("INSERT INTO review_events (subject, kind, take_id, version, status, by, at) "
               "SELECT a.slot, 'approved', a.take_id, t.version, NULL, a.approved_by, a.approved_at "
               "FROM approvals a JOIN takes t ON t.id = a.take_id")
