"""Shadow scores: the AI's silent scores of answers given while a person interviewed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "shadow scores of answers to a person's questions"

SQL = """
ALTER TABLE transcript_turn ADD COLUMN shadow jsonb;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
