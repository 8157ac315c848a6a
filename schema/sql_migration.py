"""Our migrations are plain SQL (with their constraints), run through Piccolo's migration manager."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class _Raw(Table):
    pass


def sql_migration(migration_id: str, description: str, sql: str) -> MigrationManager:
    """A migration that runs `sql`, statement by statement (asyncpg takes one per call).

    Piccolo reads `{}` as a parameter placeholder: write array literals as ARRAY[]::type[].
    """
    manager = MigrationManager(migration_id=migration_id, app_name="mocki", description=description)

    async def run() -> None:
        for statement in filter(str.strip, sql.split(";\n\n")):
            await _Raw.raw(statement)

    manager.add_raw(run)
    return manager
