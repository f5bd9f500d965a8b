-- +goose Up
-- The replay record of an apply is import_batches.result (the response without
-- its id map) followed by these parts (its id map, some thousand entries each),
-- in seq order: protobuf appends the repeated field of concatenated messages, so
-- the concatenation is the whole response. An apply COPYs the parts as it makes
-- them, and never holds the whole record, as large as its id map, nor a second
-- copy of it in one statement's parameters.
CREATE TABLE import_batch_result_parts (
    batch_id uuid    NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    part     bytea   NOT NULL,
    PRIMARY KEY (batch_id, seq)
);

-- +goose Down
DROP TABLE import_batch_result_parts;
