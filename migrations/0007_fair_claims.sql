-- Claims serve connections round-robin (pg_export_queue.cpp): the walk from
-- one connection with PENDING exports to the next, and each connection's
-- oldest due exports, are both probes of this index, so a connection's
-- backlog is never read through to find the next connection.
CREATE INDEX erp_exports_pending_by_connection ON erp_exports (erp_connection_id, next_attempt_at)
  WHERE status = 'PENDING';
