#!/usr/bin/env bash
# The demo: a throwaway PostgreSQL under .demo/, a demo org with drafts, a
# local dropzone, the daemon delivering them, and a simulated ERP
# (tools/simulated_erp.py) answering with ack files and one error file, which
# the daemon's ack poller applies. Prints the files and each export's final
# state, then cleans up its processes (the files stay in .demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bash scripts/install-deps.sh
bash scripts/build.sh build

demo="$repo/.demo"
rm -rf "$demo"
mkdir -p "$demo/pg" "$demo/dropzone"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$demo/pg"
  as_pg=(runuser -u postgres --)
fi
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
metrics_port=$(free_port)

cleanup() {
  [ -n "${daemon_pid:-}" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$demo/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== starting a throwaway PostgreSQL on port $port"
"${as_pg[@]}" "$pg_bin/initdb" -D "$demo/pg/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$demo/pg/data" -l "$demo/pg/server.log" -w \
  -o "-p $port -k $demo/pg -c listen_addresses=127.0.0.1" start >/dev/null
url="postgresql://postgres@127.0.0.1:$port/postgres"
psql=(psql -X -q -v ON_ERROR_STOP=1 "$url")

cat > "$demo/exportd.toml" <<TOML
[database]
url = "$url"

[export]
workers = 4
filesystem_roots = ["$demo/dropzone"]

[ack]
poll_interval_s = 1          # the default is 60; the demo should not wait that long

[log]
format = "text"

[metrics]
listen = "127.0.0.1:$metrics_port"
TOML

echo "== orderflow-exportd migrate"
build/orderflow-exportd migrate --config "$demo/exportd.toml"

echo "== starting the daemon"
build/orderflow-exportd run --config "$demo/exportd.toml" 2>"$demo/daemon.log" &
daemon_pid=$!

echo "== the application approves and enqueues 5 drafts for org 'acme'"
"${psql[@]}" <<SQL
INSERT INTO orgs (slug, name) VALUES ('acme', 'ACME GmbH');
INSERT INTO erp_connections (org_id, config)
  SELECT id, jsonb_build_object('mode', 'filesystem',
    'export_path', '$demo/dropzone/acme/exports', 'ack_path', '$demo/dropzone/acme/acks')
  FROM orgs WHERE slug = 'acme';
INSERT INTO customers (org_id, erp_customer_number, name, email, billing_address)
  SELECT id, '4711', 'ACME GmbH', 'orders@acme.example',
         '{"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}'
  FROM orgs WHERE slug = 'acme';
WITH drafts AS (
  INSERT INTO draft_orders (org_id, customer_id, status, external_order_number, order_date,
                            currency, approved_at)
  SELECT o.id, c.id, 'PUSHING', 'PO-2025-00' || g, DATE '2025-12-20', 'EUR', now()
    FROM orgs o JOIN customers c ON c.org_id = o.id, generate_series(1, 5) g
  RETURNING id, org_id),
lines AS (
  INSERT INTO draft_order_lines (draft_order_id, line_no, internal_sku, description, qty, uom,
                                 unit_price)
  SELECT d.id, l, 'ABC-' || (100 * l), 'Widget ' || l, 10 * l, 'EA', 1.23
    FROM drafts d, generate_series(1, 3) l)
INSERT INTO erp_exports (org_id, erp_connection_id, draft_order_id)
  SELECT d.org_id, e.id, d.id FROM drafts d JOIN erp_connections e ON e.org_id = d.org_id;
SQL

for _ in $(seq 1 100); do
  sent=$("${psql[@]}" -At -c "SELECT count(*) FROM erp_exports WHERE status = 'SENT'")
  [ "$sent" = 5 ] && break
  sleep 0.1
done

echo "== delivered files in $demo/dropzone/acme/exports"
ls -l "$demo/dropzone/acme/exports"
first=$(ls "$demo/dropzone/acme/exports" | head -1)
echo "== $first"
python3 -m json.tool "$demo/dropzone/acme/exports/$first"
echo "== exports in the database"
"${psql[@]}" -c "SELECT e.status, d.status AS draft, e.file_name, e.byte_size
                 FROM erp_exports e JOIN draft_orders d ON d.id = e.draft_order_id ORDER BY 3"
[ "$sent" = 5 ] || { echo "demo: only $sent of 5 exports were delivered" >&2; exit 1; }

echo "== the simulated ERP picks the files up and answers (it rejects PO-2025-003)"
python3 tools/simulated_erp.py --exports "$demo/dropzone/acme/exports" \
  --acks "$demo/dropzone/acme/acks" --expect 5 --reject PO-2025-003

for _ in $(seq 1 100); do
  answered=$("${psql[@]}" -At -c "SELECT count(*) FROM erp_exports WHERE status IN ('ACKED', 'FAILED')")
  [ "$answered" = 5 ] && break
  sleep 0.1
done
echo "== each export's final state"
"${psql[@]}" -c "SELECT d.external_order_number AS po, e.status, d.status AS draft, e.erp_order_id,
                        e.error_json->>'message' AS erp_error
                   FROM erp_exports e JOIN draft_orders d ON d.id = e.draft_order_id ORDER BY 1"
echo "== answers filed by the ack poller"
ls "$demo/dropzone/acme/acks/processed"
echo "== GET http://127.0.0.1:$metrics_port/healthz and /metrics (zeros and histogram buckets left out)"
python3 - "$metrics_port" <<'PY'
import sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
print(urllib.request.urlopen(base + "/healthz").read().decode(), end="")
for line in urllib.request.urlopen(base + "/metrics").read().decode().splitlines():
    if line.startswith("orderflow_exportd_") and "_bucket{" not in line and not line.endswith(" 0"):
        print(line)
PY
echo "== daemon log (text format)"
grep -E "delivered|ack file" "$demo/daemon.log" | head -12
[ "$answered" = 5 ] || { echo "demo: only $answered of 5 answers were applied" >&2; exit 1; }
echo "== demo done: 5 of 5 exports delivered, 4 acknowledged, 1 rejected by the ERP"
