"""VIP accounts: their workflows and activities jump the task queues' backlogs (Temporal task priority)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-09T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "VIP accounts"

SQL = """
ALTER TABLE app_user ADD COLUMN vip boolean NOT NULL DEFAULT false
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
