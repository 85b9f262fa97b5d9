-- The daemons keep their circuit breakers in memory; `status`, another
-- process, reads each connection's delivery state from here: as the daemon
-- that last saw it change reported it.
CREATE TABLE exportd_connection_circuits (
  erp_connection_id uuid PRIMARY KEY REFERENCES erp_connections ON DELETE CASCADE,
  state text NOT NULL,
  consecutive_failures integer NOT NULL,
  reported_by text NOT NULL,
  changed_at timestamptz NOT NULL
);
