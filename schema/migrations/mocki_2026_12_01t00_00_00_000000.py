"""Resumes and job descriptions, sealed (AES-256-GCM under per-document keys), and their chunks with vectors."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-01T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "documents (sealed) and their embedded chunks"

SQL = """
CREATE TABLE document (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    kind varchar(10) NOT NULL CHECK (kind IN ('resume', 'jd')),
    status varchar(12) NOT NULL CHECK (status IN ('extracting', 'indexing', 'ready')),
    filename_sealed bytea,
    content_type varchar(80) NOT NULL,
    bytes integer NOT NULL,
    pages integer,
    wrapped_key bytea NOT NULL,
    original_sealed bytea NOT NULL,
    text_sealed bytea,
    structure_sealed bytea,
    chunks integer,
    embedding_provider varchar(80),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX document_owner ON document (owner, created_at);

CREATE TABLE document_chunk (
    document uuid NOT NULL REFERENCES document (id) ON DELETE CASCADE,
    n integer NOT NULL,
    section varchar(30) NOT NULL,
    query_sealed bytea NOT NULL,
    answer_sealed bytea NOT NULL,
    query_embedding vector(384) NOT NULL,
    answer_embedding vector(384) NOT NULL,
    PRIMARY KEY (document, n)
);
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
