"""IMAP accounts: the sealed app password, the folder and where the incremental sync left off."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-07T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "IMAP accounts"

SQL = """
CREATE TABLE imap_account (
    owner uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
    host varchar(253) NOT NULL,
    port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    security varchar(8) NOT NULL CHECK (security IN ('ssl', 'starttls', 'plain')),
    username varchar(254) NOT NULL,
    folder varchar(200) NOT NULL,
    window_days integer NOT NULL DEFAULT 90 CHECK (window_days BETWEEN 1 AND 3650),
    wrapped_key bytea NOT NULL,
    sealed_password bytea NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('active', 'reconnect')),
    status_reason text,
    uidvalidity bigint,
    last_uid bigint NOT NULL DEFAULT 0,
    generation integer NOT NULL DEFAULT 0,
    connected_at timestamptz NOT NULL,
    synced_at timestamptz,
    fetched integer NOT NULL DEFAULT 0,
    skipped jsonb NOT NULL DEFAULT '[]'::jsonb,
    last_error text
)
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
