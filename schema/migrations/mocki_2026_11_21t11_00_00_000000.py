"""Voice metrics: how each spoken AI reply came about (end-of-utterance, STT, LLM, TTS, voice to voice)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "voice metrics per turn"

SQL = """
ALTER TABLE transcript_turn ADD COLUMN voice jsonb;
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
