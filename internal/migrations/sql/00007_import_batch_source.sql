-- +goose Up
-- Where an import came from (the source of its file: the environment and the
-- course id there), so that the list of recent imports can say it; and the
-- index that lists them, newest first.
ALTER TABLE import_batches
    ADD COLUMN source_environment text NOT NULL DEFAULT '',
    ADD COLUMN source_course_id   text NOT NULL DEFAULT '';
CREATE INDEX import_batches_created_idx ON import_batches (created_at DESC, id DESC);

-- +goose Down
DROP INDEX import_batches_created_idx;
ALTER TABLE import_batches DROP COLUMN source_course_id, DROP COLUMN source_environment;
