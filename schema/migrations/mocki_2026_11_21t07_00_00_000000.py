"""Code submissions: each attempt at a coding question, its executed review and its weakness signals."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "code submissions"

SQL = """
CREATE TABLE code_submission (
    id bigserial PRIMARY KEY,
    room uuid NOT NULL REFERENCES room (id) ON DELETE CASCADE,
    question_id varchar(60) NOT NULL,
    attempt integer NOT NULL CHECK (attempt >= 1),
    code text NOT NULL,
    review jsonb NOT NULL,
    -- edge_cases, time_complexity, variable_naming, ...: kept for the weakness report, never sent when polling
    signals text[] NOT NULL DEFAULT ARRAY[]::text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (room, question_id, attempt)
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
