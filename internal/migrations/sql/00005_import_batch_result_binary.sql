-- +goose Up
-- The result replayed for a repeated idempotency key is kept as binary protobuf:
-- with an id map of every entity it is as large as a course, and JSON costs far
-- more to build and store.
ALTER TABLE import_batches DROP COLUMN result;
ALTER TABLE import_batches ADD COLUMN result bytea;

-- +goose Down
ALTER TABLE import_batches DROP COLUMN result;
ALTER TABLE import_batches ADD COLUMN result jsonb;
