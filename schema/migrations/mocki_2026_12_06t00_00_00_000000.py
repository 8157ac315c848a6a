"""Prep plans: rooms started for an application (its mock interviews), and `prep` todos."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-06T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rooms practised for an application; prep todos"

SQL = """
ALTER TABLE room ADD COLUMN application uuid REFERENCES application (id) ON DELETE SET NULL;

CREATE INDEX room_application ON room (application) WHERE application IS NOT NULL;

ALTER TABLE todo DROP CONSTRAINT todo_kind_check;

ALTER TABLE todo ADD CONSTRAINT todo_kind_check
    CHECK (kind IN ('assessment', 'offer', 'interview', 'prep', 'follow_up', 'manual'))
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
