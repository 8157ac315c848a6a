"""The summary buffer: token counts per turn and each room's running summary of its older turns."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T08:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "interview context"

SQL = """
ALTER TABLE transcript_turn ADD COLUMN tokens integer;

-- On candidate turns the AI answered: the tokens of the context it was shown, and of the whole transcript then.
ALTER TABLE transcript_turn ADD COLUMN prompt_tokens integer;

ALTER TABLE transcript_turn ADD COLUMN transcript_tokens integer;

CREATE TABLE interview_context (
    room uuid PRIMARY KEY REFERENCES room (id) ON DELETE CASCADE,
    summary text NOT NULL DEFAULT '',
    summarised_through integer NOT NULL DEFAULT -1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
