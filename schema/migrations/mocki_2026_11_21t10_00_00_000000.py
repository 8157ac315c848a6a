"""Spoken replies: the interviewer's reply as audio, when a client asks for it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reply audio"

SQL = """
CREATE TABLE reply_audio (
    id bigserial PRIMARY KEY,
    room uuid NOT NULL REFERENCES room (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    wav bytea NOT NULL,
    seconds real NOT NULL,
    provider varchar(80) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (room, seq)
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
