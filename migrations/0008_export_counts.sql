-- `status` and every metrics scrape give the number of exports in each
-- status. Counting the finished ones (ACKED, FAILED), kept for years, meant
-- reading the whole table on every scrape; they are counted as they come and
-- go instead. The live ones (PENDING, SENT) stay few and are counted through
-- the status index, which reads only their entries.

-- Taken before anything is counted, so no export changes between the count
-- below and the triggers that keep it.
LOCK TABLE erp_exports IN SHARE ROW EXCLUSIVE MODE;

-- The finished exports are the sum over all slots. Each transaction adds its
-- changes to a slot nobody else holds (its own when it is free), so
-- transactions finishing exports at the same time never wait for one another
-- here; a slot's figures alone mean nothing and may be negative.
CREATE TABLE exportd_finished_counts (
  slot smallint PRIMARY KEY,
  acked bigint NOT NULL,
  failed bigint NOT NULL
) WITH (fillfactor = 50);  -- room on the page, so each change is a HOT update

INSERT INTO exportd_finished_counts (slot, acked, failed)
SELECT slot, 0, 0 FROM generate_series(0, 63) AS slot;
UPDATE exportd_finished_counts
   SET acked = (SELECT count(*) FROM erp_exports WHERE status = 'ACKED'),
       failed = (SELECT count(*) FROM erp_exports WHERE status = 'FAILED')
 WHERE slot = 0;

CREATE FUNCTION exportd_count_finished() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  acked_delta bigint := 0;
  failed_delta bigint := 0;
  chosen smallint;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT count(*) FILTER (WHERE status = 'ACKED'), count(*) FILTER (WHERE status = 'FAILED')
      INTO acked_delta, failed_delta FROM new_rows;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT acked_delta - count(*) FILTER (WHERE status = 'ACKED'),
           failed_delta - count(*) FILTER (WHERE status = 'FAILED')
      INTO acked_delta, failed_delta FROM old_rows;
  END IF;
  IF acked_delta = 0 AND failed_delta = 0 THEN
    RETURN NULL;
  END IF;
  SELECT slot INTO chosen FROM exportd_finished_counts
   ORDER BY slot <> pg_backend_pid() % 64, slot
   LIMIT 1 FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN  -- all 64 held: wait for this backend's own
    chosen := pg_backend_pid() % 64;
  END IF;
  UPDATE exportd_finished_counts
     SET acked = acked + acked_delta, failed = failed + failed_delta
   WHERE slot = chosen;
  RETURN NULL;
END $$;

CREATE TRIGGER erp_exports_count_inserted AFTER INSERT ON erp_exports
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION exportd_count_finished();
CREATE TRIGGER erp_exports_count_updated AFTER UPDATE ON erp_exports
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION exportd_count_finished();
CREATE TRIGGER erp_exports_count_deleted AFTER DELETE ON erp_exports
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION exportd_count_finished();

CREATE FUNCTION exportd_uncount_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE exportd_finished_counts SET acked = 0, failed = 0;
  RETURN NULL;
END $$;

CREATE TRIGGER erp_exports_count_truncated AFTER TRUNCATE ON erp_exports
  FOR EACH STATEMENT EXECUTE FUNCTION exportd_uncount_all();

-- The oldest PENDING export without visiting every one of them (a backlog
-- may hold tens of thousands).
CREATE INDEX erp_exports_pending_created ON erp_exports (created_at) WHERE status = 'PENDING';

-- `status` counts the exports FAILED in the last 24 hours: a short range of
-- this index, however many failed before.
CREATE INDEX erp_exports_failed_updated ON erp_exports (updated_at) WHERE status = 'FAILED';
