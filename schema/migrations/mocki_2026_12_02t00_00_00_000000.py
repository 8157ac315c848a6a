"""The question bank's embeddings (an HNSW index, cosine) and the documents a room's interview is planned from."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-02T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "question bank embeddings (HNSW) and rooms planned from a resume and a job description"

SQL = """
CREATE TABLE question_embedding (
    question_id varchar(60) NOT NULL REFERENCES question (id) ON DELETE CASCADE,
    provider varchar(80) NOT NULL,
    text_sha256 char(64) NOT NULL,
    embedding vector(384) NOT NULL,
    PRIMARY KEY (question_id, provider)
);

CREATE INDEX question_embedding_hnsw ON question_embedding USING hnsw (embedding vector_cosine_ops);

ALTER TABLE room ADD COLUMN resume uuid REFERENCES document (id) ON DELETE SET NULL;

ALTER TABLE room ADD COLUMN jd uuid REFERENCES document (id) ON DELETE SET NULL;

ALTER TABLE transcript_turn ADD COLUMN grounded_in jsonb
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
