"""Recruiters manage the question bank: a question is retired rather than deleted (interviews already planned
still read it), every write gets a new revision from one sequence (workers reload the bank when the highest
revision moves; an edit names the revision it replaces), `team` marks questions written in mocki, and a
recruiter's own question is planned only into their rooms until an admin shares it with every interview."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from schema.sql_migration import sql_migration

ID = "2026-12-10T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "question bank revisions, retirement and team questions"

SQL = """
CREATE SEQUENCE question_revision;

ALTER TABLE question
    ADD COLUMN revision bigint NOT NULL DEFAULT nextval('question_revision'),
    ADD COLUMN retired_at timestamptz,
    ADD COLUMN updated_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
    -- Who wrote it in mocki (NULL: shipped or imported); unshared, it is planned only into the owner's rooms.
    ADD COLUMN owner uuid REFERENCES app_user (id) ON DELETE SET NULL,
    ADD COLUMN shared boolean NOT NULL DEFAULT true,
    DROP CONSTRAINT question_source_check,
    ADD CONSTRAINT question_source_check CHECK (source IN ('starter', 'imported', 'team'));

-- Every write, by any path (seed, API, psql), takes the next revision: no writer can forget to.
CREATE FUNCTION question_next_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := nextval('question_revision');
    RETURN NEW;
END
$$;

CREATE TRIGGER question_revision BEFORE INSERT OR UPDATE ON question
    FOR EACH ROW EXECUTE FUNCTION question_next_revision()
"""


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, SQL)
