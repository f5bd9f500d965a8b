-- +goose Up
-- Every backup run, scheduled or not, and how it ended. A scheduled run is keyed
-- by its slot (the time the schedule named): replicas that share the database
-- each try to insert the slot's row, and only the one whose INSERT wins runs the
-- backup. A row, unlike a session advisory lock, works through a transaction
-- pooler. Backups leave this table's rows out: they belong to the database the
-- backup was taken from.
CREATE TABLE backup_runs (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    trigger       text NOT NULL CHECK (trigger IN ('SCHEDULE', 'MANUAL', 'MIGRATE', 'RELEASE_CHECK')),
    slot          timestamptz UNIQUE,
    runner        text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED')),
    destination   text NOT NULL DEFAULT '',
    backup_name   text,
    size_bytes    bigint,
    error_code    text,
    error_detail  text,
    CHECK ((trigger = 'SCHEDULE') = (slot IS NOT NULL)),
    CHECK ((status = 'RUNNING') = (finished_at IS NULL))
);
CREATE INDEX backup_runs_started_idx ON backup_runs (started_at DESC);

-- +goose Down
DROP TABLE backup_runs;
