"""The question bank as a table: the starter bank is loaded into it by `mocki migrate` / `mocki seed`."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "question bank"

SQL = """
CREATE TABLE question (
    id varchar(60) PRIMARY KEY,
    stage varchar(20) NOT NULL
        CHECK (stage IN ('intro', 'behavioural', 'knowledge', 'coding', 'candidate_questions')),
    difficulty varchar(10) NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard', '*')),
    roles text[] NOT NULL,
    -- The whole question (text, rubric, tests, hints, reference solution) as the worker reads it.
    body jsonb NOT NULL,
    -- starter: from the packaged bank, refreshed when a newer bank ships; imported: a team's own, never overwritten
    source varchar(20) NOT NULL CHECK (source IN ('starter', 'imported')),
    bank_version integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX question_by_stage ON question (stage, difficulty);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
