"""Rooms, their transcript (one row per turn, scored when the candidate speaks) and reports; pgvector."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rooms, transcript turns, interview reports, vector extension"

SQL = """
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE room (
    id uuid PRIMARY KEY,
    role varchar(80) NOT NULL,
    difficulty varchar(10) NOT NULL CHECK (difficulty IN ('easy', 'medium', 'hard')),
    mode varchar(10) NOT NULL DEFAULT 'ai' CHECK (mode IN ('ai', 'peer')),
    status varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    candidate_name varchar(120) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);

CREATE TABLE transcript_turn (
    id bigserial PRIMARY KEY,
    room uuid NOT NULL REFERENCES room (id) ON DELETE CASCADE,
    seq integer NOT NULL CHECK (seq >= 0),
    speaker varchar(10) NOT NULL CHECK (speaker IN ('candidate', 'ai', 'human')),
    stage varchar(20) NOT NULL,
    question_id varchar(60),
    text text NOT NULL,
    provider varchar(80),
    score real,
    evaluation jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- a retried activity writes the same turn again; the key makes that a no-op
    UNIQUE (room, seq)
);

CREATE TABLE interview_report (
    room uuid PRIMARY KEY REFERENCES room (id) ON DELETE CASCADE,
    body jsonb NOT NULL,
    provider varchar(80) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
