-- +goose Up
-- Every audited operation records how it ended: OK, or the machine code of the
-- error that stopped it.
ALTER TABLE audit_logs ADD COLUMN outcome text NOT NULL DEFAULT 'OK';
CREATE INDEX audit_logs_target_idx ON audit_logs (target_type, target_id);

-- +goose Down
DROP INDEX audit_logs_target_idx;
ALTER TABLE audit_logs DROP COLUMN outcome;
