"""Gmail accounts (sealed OAuth tokens, filters, the incremental sync's checkpoint) and each fetched message's
Gmail id."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-05T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Gmail accounts and fetched messages' Gmail ids"

SQL = """
CREATE TABLE gmail_account (
    owner uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
    address varchar(254) NOT NULL,
    wrapped_key bytea NOT NULL,
    sealed_tokens bytea NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('active', 'reconnect')),
    status_reason text,
    labels text[] NOT NULL DEFAULT ARRAY[]::text[],
    window_days integer NOT NULL DEFAULT 90 CHECK (window_days BETWEEN 1 AND 3650),
    history_id varchar(40),
    generation integer NOT NULL DEFAULT 0,
    connected_at timestamptz NOT NULL,
    synced_at timestamptz,
    fetched integer NOT NULL DEFAULT 0,
    skipped jsonb NOT NULL DEFAULT '[]'::jsonb,
    last_error text
);

ALTER TABLE mail_message ADD COLUMN external_id varchar(100);

CREATE INDEX mail_message_external ON mail_message (owner, external_id) WHERE external_id IS NOT NULL
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
