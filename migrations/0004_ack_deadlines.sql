-- Ack deadlines: when an unanswered SENT export was found overdue (set once,
-- so its alert is raised once; also set when the deadline failed it).
ALTER TABLE erp_exports ADD COLUMN ack_overdue_at timestamptz NULL;

-- The sweep reads only SENT exports not yet found overdue, per connection
-- in the order they were sent: finished exports, however many, are never
-- visited.
CREATE INDEX erp_exports_ack_deadline ON erp_exports (erp_connection_id, sent_at)
  WHERE status = 'SENT' AND ack_overdue_at IS NULL;

-- `status` and the metrics count the overdue ones per connection.
CREATE INDEX erp_exports_ack_overdue ON erp_exports (erp_connection_id, sent_at)
  WHERE status = 'SENT' AND ack_overdue_at IS NOT NULL;
