-- Every ack or error file the poller handled: what it said, what became of
-- it, and where the file went. The unique key makes applying the same file
-- (same connection, name and bytes) twice impossible, even when a crash
-- came between the commit and the move.
CREATE TABLE exportd_ack_files (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  erp_connection_id uuid NOT NULL REFERENCES erp_connections,
  file_name text NOT NULL,
  byte_size bigint NOT NULL,
  sha256 text NOT NULL,
  verdict text NOT NULL,  -- ACKED, REJECTED, REPEAT, CONTRADICTION, NO_EXPORT, INVALID, TOO_LARGE
  reason text NULL,
  erp_export_id uuid NULL REFERENCES erp_exports,
  disposition text NOT NULL CHECK (disposition IN ('processed', 'error')),
  handled_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (erp_connection_id, file_name, sha256)
);
CREATE INDEX exportd_ack_files_export ON exportd_ack_files (erp_export_id);

-- Finding the export an answer names.
CREATE INDEX erp_exports_connection_file ON erp_exports (erp_connection_id, file_name);
CREATE INDEX erp_exports_connection_draft ON erp_exports (erp_connection_id, draft_order_id);

-- Each connection's last ack poll, for operators and `status`.
ALTER TABLE erp_connections
  ADD COLUMN last_ack_poll_at timestamptz NULL,
  ADD COLUMN last_ack_poll_error text NULL;
