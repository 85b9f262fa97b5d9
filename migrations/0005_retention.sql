-- Retention walks each kind in date order, one batch at a time, resuming
-- after the last row it looked at: every batch is a short index range scan,
-- however large the table. The partial indexes hold only the finished
-- exports retention may look at, so PENDING and SENT work never slows it.
CREATE INDEX exportd_ack_files_handled ON exportd_ack_files (handled_at, id);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX erp_exports_archived ON erp_exports (sent_at, id)
  WHERE archive_key IS NOT NULL AND status IN ('ACKED', 'FAILED');
CREATE INDEX erp_exports_finished ON erp_exports ((coalesce(acked_at, sent_at, updated_at)), id)
  WHERE archive_key IS NULL AND status IN ('ACKED', 'FAILED');
