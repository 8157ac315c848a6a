"""Accounts: users (argon2id hashes), refresh-token families, and who belongs to which room."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-11-21T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "users, refresh tokens, room candidate / recruiter / interviewers"

SQL = """
CREATE TABLE app_user (
    id uuid PRIMARY KEY,
    email varchar(254) NOT NULL,
    display_name varchar(120) NOT NULL,
    password_hash text NOT NULL,
    role varchar(12) NOT NULL CHECK (role IN ('candidate', 'recruiter', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX app_user_email_key ON app_user (lower(email));

-- One row per refresh token; a login starts a family, each refresh uses one token and adds the next.
-- Presenting a used token again means it was stolen: the whole family is revoked.
CREATE TABLE refresh_token (
    id uuid PRIMARY KEY,
    account uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    family uuid NOT NULL,
    token_hash varchar(64) NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refresh_token_family ON refresh_token (family);

-- Rooms made before accounts existed have no candidate: only admins see them.
ALTER TABLE room ADD COLUMN candidate uuid REFERENCES app_user (id) ON DELETE CASCADE;

ALTER TABLE room ADD COLUMN recruiter uuid REFERENCES app_user (id) ON DELETE SET NULL;

CREATE INDEX room_candidate ON room (candidate);

CREATE INDEX room_recruiter ON room (recruiter);

CREATE TABLE room_interviewer (
    room uuid NOT NULL REFERENCES room (id) ON DELETE CASCADE,
    interviewer uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    PRIMARY KEY (room, interviewer)
);

CREATE INDEX room_interviewer_user ON room_interviewer (interviewer);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
