-- The tables shared with the OrderFlow application (docs/architecture.md,
-- "Database"), plus the daemon's own delivery bookkeeping (lease, attempts,
-- schedule) and the NOTIFY trigger that wakes the workers.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TYPE draft_order_status AS ENUM
  ('NEEDS_REVIEW', 'READY', 'APPROVED', 'PUSHING', 'PUSHED', 'ERROR');
CREATE TYPE erp_export_status AS ENUM ('PENDING', 'SENT', 'ACKED', 'FAILED');

CREATE TABLE orgs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text UNIQUE NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL
);

CREATE TABLE customers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs,
  erp_customer_number text NULL,
  name text NOT NULL,
  email text NULL,
  phone text NULL,
  billing_address jsonb NULL,
  shipping_address jsonb NULL
);

CREATE TABLE draft_orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs,
  customer_id uuid NULL REFERENCES customers,
  status draft_order_status NOT NULL,
  external_order_number text NULL,
  order_date date NULL,
  requested_delivery_date date NULL,
  currency char(3) NULL,
  notes text NULL,
  approved_at timestamptz NULL,
  approved_by_user_id uuid NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE draft_order_lines (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  draft_order_id uuid NOT NULL REFERENCES draft_orders ON DELETE CASCADE,
  line_no integer NOT NULL,
  internal_sku text NULL,
  customer_sku text NULL,
  description text NULL,
  qty numeric(18,4) NOT NULL,
  uom text NULL,
  unit_price numeric(18,4) NULL,
  UNIQUE (draft_order_id, line_no)
);

CREATE TABLE erp_connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs,
  connector_type text NOT NULL DEFAULT 'DROPZONE_JSON_V1',
  config jsonb NOT NULL,
  secret bytea NULL,
  is_active boolean NOT NULL DEFAULT true,
  last_test_at timestamptz NULL,
  last_test_success boolean NULL,
  UNIQUE (org_id, connector_type)
);

CREATE TABLE erp_exports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs,
  erp_connection_id uuid NOT NULL REFERENCES erp_connections,
  draft_order_id uuid NOT NULL REFERENCES draft_orders,
  status erp_export_status NOT NULL DEFAULT 'PENDING',
  file_name text NULL,
  dropzone_path text NULL,
  sha256 text NULL,
  byte_size bigint NULL,
  erp_order_id text NULL,
  error_json jsonb NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz NULL,
  acked_at timestamptz NULL,
  -- the daemon's own columns
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text NULL,
  lease_expires_at timestamptz NULL,
  first_attempt_at timestamptz NULL
);

CREATE INDEX erp_exports_due ON erp_exports (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX erp_exports_draft ON erp_exports (draft_order_id, created_at);
CREATE INDEX erp_exports_status ON erp_exports (status);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL,
  actor_user_id uuid NULL,
  action text NOT NULL,
  entity_type text NOT NULL,
  entity_id uuid NOT NULL,
  details jsonb NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- State rules live in the database too, so plain SQL from the application or
-- an operator cannot break them either.
CREATE FUNCTION exportd_check_draft_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'READY' AND NEW.status = 'APPROVED')
    OR (OLD.status = 'APPROVED' AND NEW.status = 'PUSHING')
    OR (OLD.status = 'PUSHING' AND NEW.status IN ('PUSHED', 'ERROR'))
    OR (OLD.status = 'PUSHED' AND NEW.status = 'ERROR')
    OR (OLD.status = 'ERROR' AND NEW.status = 'PUSHING')) THEN
    RAISE EXCEPTION 'draft order % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER draft_orders_transition BEFORE UPDATE ON draft_orders
  FOR EACH ROW EXECUTE FUNCTION exportd_check_draft_transition();

CREATE FUNCTION exportd_check_export_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'PENDING' AND NEW.status IN ('SENT', 'FAILED'))
    OR (OLD.status = 'SENT' AND NEW.status IN ('ACKED', 'FAILED'))) THEN
    RAISE EXCEPTION 'export % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER erp_exports_transition BEFORE UPDATE ON erp_exports
  FOR EACH ROW EXECUTE FUNCTION exportd_check_export_transition();

-- New or rescheduled PENDING work wakes the workers at once; polling is only
-- the fallback.
CREATE FUNCTION exportd_notify_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('erp_exports_pending', '');
  RETURN NULL;
END $$;

CREATE TRIGGER erp_exports_notify AFTER INSERT ON erp_exports
  FOR EACH STATEMENT EXECUTE FUNCTION exportd_notify_pending();
