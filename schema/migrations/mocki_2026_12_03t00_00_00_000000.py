"""The job-application tracker: mail messages imported for analysis (sealed), applications and their timelines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-03T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mail messages, applications and application events"

SQL = """
CREATE TABLE application (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    company varchar(200) NOT NULL,
    position varchar(200),
    status varchar(24) NOT NULL,
    archived boolean NOT NULL DEFAULT false,
    source varchar(10) NOT NULL CHECK (source IN ('email', 'manual')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX application_owner ON application (owner, updated_at DESC);

CREATE TABLE mail_message (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    message_id varchar(300) NOT NULL,
    source varchar(10) NOT NULL,
    sent_at timestamptz,
    wrapped_key bytea NOT NULL,
    sealed bytea NOT NULL,
    analysis jsonb,
    analysed_at timestamptz,
    applied_at timestamptz,
    application uuid REFERENCES application (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (owner, message_id)
);

CREATE INDEX mail_message_unapplied ON mail_message (owner) WHERE applied_at IS NULL;

CREATE TABLE application_event (
    id uuid PRIMARY KEY,
    application uuid NOT NULL REFERENCES application (id) ON DELETE CASCADE,
    message uuid REFERENCES mail_message (id) ON DELETE SET NULL,
    status varchar(24) NOT NULL,
    occurred_at timestamptz NOT NULL,
    summary text NOT NULL,
    deadline timestamptz,
    interview_at timestamptz,
    provider varchar(80) NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (application, message)
);

CREATE INDEX application_event_timeline ON application_event (application, occurred_at)
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
