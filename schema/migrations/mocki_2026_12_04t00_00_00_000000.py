"""Todos (generated from application events, or added by hand) and the notifications sent about them."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-04T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "todos and notifications (deadline reminders, status changes)"

SQL = """
CREATE TABLE todo (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    application uuid REFERENCES application (id) ON DELETE CASCADE,
    kind varchar(12) NOT NULL CHECK (kind IN ('assessment', 'offer', 'interview', 'follow_up', 'manual')),
    title varchar(300) NOT NULL,
    due_at timestamptz,
    status varchar(4) NOT NULL CHECK (status IN ('TODO', 'DONE')),
    origin varchar(120),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    done_at timestamptz,
    reminders_synced_at timestamptz,
    UNIQUE (owner, origin)
);

CREATE INDEX todo_owner ON todo (owner, status, due_at);

CREATE TABLE notification (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind varchar(12) NOT NULL CHECK (kind IN ('reminder', 'status')),
    dedupe_key varchar(200) NOT NULL UNIQUE,
    todo uuid REFERENCES todo (id) ON DELETE SET NULL,
    application uuid REFERENCES application (id) ON DELETE SET NULL,
    due_at timestamptz,
    lead_seconds integer,
    subject text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL,
    sent_at timestamptz,
    transport varchar(10),
    delivery_id varchar(200)
);

CREATE INDEX notification_unsent ON notification (owner) WHERE sent_at IS NULL;

CREATE INDEX notification_todo ON notification (todo)
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
