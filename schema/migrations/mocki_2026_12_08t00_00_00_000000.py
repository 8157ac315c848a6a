"""Job postings (imported from JSON/CSV, embedded for recommendations), the postings each weekly digest named, and
the digest as a kind of notification."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-08T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "job postings and weekly digests"

# No vector index on job_posting: recommendations filter by who may see a posting and by the model that embedded
# it, which starves an HNSW walk of results; an exact scan of thousands of postings takes milliseconds.
SQL = """
CREATE TABLE job_posting (
    id uuid PRIMARY KEY,
    publisher uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    shared boolean NOT NULL,
    source_ref varchar(200) NOT NULL,
    company varchar(200) NOT NULL,
    title varchar(200) NOT NULL,
    location varchar(200),
    url text,
    description text NOT NULL,
    posted_at timestamptz,
    closes_at timestamptz,
    content_sha256 varchar(64) NOT NULL,
    embedding vector(384),
    title_embedding vector(384),
    embedding_provider varchar(80),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (publisher, source_ref)
);

CREATE INDEX job_posting_unindexed ON job_posting (created_at) WHERE embedding IS NULL;

ALTER TABLE notification DROP CONSTRAINT notification_kind_check;

ALTER TABLE notification ADD CONSTRAINT notification_kind_check CHECK (kind IN ('reminder', 'status', 'digest'));

CREATE TABLE recommended_posting (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    posting uuid NOT NULL REFERENCES job_posting (id) ON DELETE CASCADE,
    notification uuid NOT NULL REFERENCES notification (id) ON DELETE CASCADE,
    UNIQUE (owner, posting)
)
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
