-- +goose Up
-- An import writes its batch row before the course (every content row references
-- the batch), so the batch's reference to the course is checked at commit.
ALTER TABLE import_batches
    ALTER CONSTRAINT import_batches_course_fk DEFERRABLE INITIALLY DEFERRED;

-- +goose Down
ALTER TABLE import_batches
    ALTER CONSTRAINT import_batches_course_fk NOT DEFERRABLE;
