"""Points Piccolo at the database and applies the migrations."""

from __future__ import annotations

import contextlib
import io
import os

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.postgres import PostgresEngine


def bind(database_url: str) -> PostgresEngine:
    """Use `database_url` in this process (and the processes it starts); returns Piccolo's engine."""
    os.environ["DATABASE_URL"] = database_url
    # Piccolo's engine connects when it is constructed (a version check), so it is imported only once the
    # variable is set; if something imported it earlier, it is re-pointed.
    from schema.piccolo_conf import DB

    DB.config["dsn"] = database_url
    return DB


class MigrationFailed(RuntimeError):
    pass


async def migrate() -> None:
    """Apply every pending migration, then load the starter question bank (a no-op when it is current).

    Piccolo's own progress output is kept out of ours.
    """
    from activities.question_bank import packaged_file, seed

    with contextlib.redirect_stdout(io.StringIO()) as output:
        result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationFailed(f"migrations failed: {result.message}\n{output.getvalue()}")
    await seed(packaged_file(), source="starter")
