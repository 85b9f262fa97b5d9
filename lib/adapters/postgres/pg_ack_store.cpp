// A batch of answers is recorded with a handful of set-based statements over
// one JSON parameter (jsonb_to_recordset), so thousands of files cost a few
// round trips, not several per file.
#include "adapters/postgres/pg_ack_store.h"

#include <algorithm>
#include <map>

#include "adapters/postgres/pg_encoding.h"
#include "adapters/postgres/pg_failure.h"
#include "adapters/postgres/pg_session.h"
#include "domain/failure.h"

namespace exportd {

namespace {

// Advisory lock class for "one ack poller per connection".
constexpr int kAckPollLock = 7341;

// Whether a row of erp_exports is FAILED by its ack deadline rather than by
// an answer (which sets acked_at) or a failed delivery (another code).
constexpr const char* kFailedByAckTimeout =
    "(status = 'FAILED' AND acked_at IS NULL AND error_json->>'code' = 'ACK_TIMEOUT') IS TRUE"
    " AS ack_timeout";

// The export of a row with its `id`, `status` and `ack_timeout`.
AckTarget target(const pqxx::row& row) {
  const auto text = row["status"].as<std::string>();
  const auto status = parse_export_status(text);
  if (!status) {
    throw Failure(FailureKind::permanent, "unknown export status '" + text + "'");
  }
  return {row["id"].as<std::string>(), *status, row["ack_timeout"].as<bool>()};
}

const char* disposition_name(AckDisposition d) {
  return d == AckDisposition::processed ? "processed" : "error";
}

// The server's message without its "ERROR:" tag, context and detail lines.
std::string refusal(const pqxx::sql_error& e) {
  std::string_view message = e.what();
  message = message.substr(0, message.find('\n'));
  constexpr std::string_view kTag = "ERROR:";
  if (message.starts_with(kTag)) {
    message.remove_prefix(kTag.size());
  }
  message.remove_prefix(std::min(message.find_first_not_of(' '), message.size()));
  return "the database refused it: " + std::string(message);
}

void record_items(pqxx::work& tx, const std::string& connection_id,
                  const std::vector<AckFileRecord>& files, const nlohmann::json& items,
                  AckStore::BatchResult& out) {
  // Names and reasons that are not valid UTF-8 are stored with U+FFFD.
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (const auto& row : tx.exec_params(
           "SELECT v.idx, a.disposition"
           "  FROM jsonb_to_recordset($2::jsonb) AS v(idx int, file_name text, sha256 text)"
           "  JOIN exportd_ack_files a ON a.erp_connection_id = $1"
           "   AND a.file_name = v.file_name AND a.sha256 = v.sha256",
           connection_id, dump(items))) {
    const auto i = row["idx"].as<size_t>();
    out.results[i] = RecordResult::seen_before;
    out.dispositions[i] = row["disposition"].as<std::string>() == "processed"
                              ? AckDisposition::processed
                              : AckDisposition::error;
  }
  nlohmann::json applies = nlohmann::json::array();
  for (const auto& item : items) {
    const auto i = item["idx"].get<size_t>();
    if (item.contains("status") && out.results[i] == RecordResult::recorded) {
      applies.push_back(item);
      out.results[i] = RecordResult::stale;  // until the update says otherwise
    }
  }
  nlohmann::json audit = nlohmann::json::array();
  std::vector<std::string> rejected_drafts;
  if (!applies.empty()) {
    for (const auto& row : tx.exec_params(
             "UPDATE erp_exports e"
             "   SET status = v.status::erp_export_status, erp_order_id = v.erp_order_id,"
             "       error_json = v.error_json, acked_at = now()"
             "  FROM jsonb_to_recordset($1::jsonb)"
             "       AS v(idx int, export_id uuid, status text, erp_order_id text,"
             "            error_json jsonb)"
             " WHERE e.id = v.export_id AND e.status = 'SENT'"
             " RETURNING v.idx, e.org_id, e.draft_order_id, e.id AS export_id, v.status",
             dump(applies))) {
      const auto i = row["idx"].as<size_t>();
      out.results[i] = RecordResult::recorded;
      const bool acked = row["status"].as<std::string>() == "ACKED";
      const auto draft_order_id = row["draft_order_id"].as<std::string>();
      if (!acked) {
        rejected_drafts.push_back(draft_order_id);
      }
      nlohmann::json details = {{"file_name", files[i].file_name},
                                {"draft_order_id", draft_order_id}};
      if (acked) {
        details["erp_order_id"] = files[i].content->erp_order_id;
      } else {
        details["error"] = files[i].content->error;
      }
      audit.push_back({{"org_id", row["org_id"].as<std::string>()},
                       {"action", acked ? "EXPORT_ACKED" : "EXPORT_REJECTED"},
                       {"export_id", row["export_id"].as<std::string>()},
                       {"details", details}});
    }
  }
  if (!rejected_drafts.empty()) {
    tx.exec_params(
        "UPDATE draft_orders SET status = 'ERROR' WHERE id = ANY($1::uuid[]) AND status = "
        "'PUSHED'",
        pg_array(rejected_drafts));
  }
  if (!audit.empty()) {
    tx.exec_params(
        "INSERT INTO audit_log (org_id, action, entity_type, entity_id, details)"
        " SELECT (a->>'org_id')::uuid, a->>'action', 'erp_export', (a->>'export_id')::uuid,"
        "        a->'details'"
        "   FROM jsonb_array_elements($1::jsonb) AS a",
        dump(audit));
  }
  nlohmann::json new_records = nlohmann::json::array();
  for (const auto& item : items) {
    if (out.results[item["idx"].get<size_t>()] == RecordResult::recorded) {
      new_records.push_back(item);
    }
  }
  if (!new_records.empty()) {
    tx.exec_params(
        "INSERT INTO exportd_ack_files (erp_connection_id, file_name, byte_size, sha256,"
        "                               verdict, reason, erp_export_id, disposition)"
        " SELECT $1, v.file_name, v.byte_size, v.sha256, v.verdict, nullif(v.reason, ''),"
        "        v.export_id, v.disposition"
        "   FROM jsonb_to_recordset($2::jsonb)"
        "        AS v(file_name text, byte_size bigint, sha256 text, verdict text, reason text,"
        "             export_id uuid, disposition text)"
        " ON CONFLICT DO NOTHING",
        connection_id, dump(new_records));
  }
}

// Records `items` (entries of the batch, by "idx") behind a savepoint. False
// when the database refuses them: `out` is left as it was, except for the
// reason of a lone refused item in `out.refused`. The savepoint is set by
// hand: pqxx 6.4's subtransaction sets its own only on a plain exec, never
// on exec_params, so a refusal would abort the whole transaction.
bool record_refusable(pqxx::work& tx, const std::string& connection_id,
                      const std::vector<AckFileRecord>& files, const nlohmann::json& items,
                      AckStore::BatchResult& out) {
  AckStore::BatchResult attempt = out;
  tx.exec0("SAVEPOINT ack_files");
  try {
    record_items(tx, connection_id, files, items, attempt);
  } catch (const pqxx::sql_error& e) {
    // Data the database cannot hold (class 22: a NUL, invalid UTF-8, a value
    // out of range) or a constraint it breaks (class 23): trying again would
    // not change the answer. Anything else is the connection's problem.
    if (!e.sqlstate().starts_with("22") && !e.sqlstate().starts_with("23")) {
      throw;
    }
    tx.exec0("ROLLBACK TO SAVEPOINT ack_files");
    if (items.size() == 1) {
      out.refused[items[0]["idx"].get<size_t>()] = refusal(e);
    }
    return false;
  }
  tx.exec0("RELEASE SAVEPOINT ack_files");
  out = std::move(attempt);
  return true;
}

}  // namespace

std::vector<AckConnection> select_active_connections(pqxx::transaction_base& tx) {
  std::vector<AckConnection> out;
  for (const auto& row :
       tx.exec("SELECT id, config::text AS config, encode(secret, 'hex') AS secret"
               "  FROM erp_connections"
               " WHERE is_active AND connector_type = 'DROPZONE_JSON_V1' ORDER BY id")) {
    out.push_back({row["id"].as<std::string>(), row["config"].as<std::string>(),
                   row["secret"].is_null() ? "" : hex_decode(row["secret"].as<std::string>())});
  }
  return out;
}

PgAckStore::PgAckStore(std::string database_url) : conn_(std::move(database_url)) {}

std::vector<AckConnection> PgAckStore::active_connections() {
  return conn_.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return select_active_connections(tx);
  });
}

bool PgAckStore::try_claim_connection(const std::string& connection_id) {
  return conn_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT pg_try_advisory_lock($1, hashtext($2)) AS claimed", kAckPollLock,
                      connection_id)["claimed"]
        .as<bool>();
  });
}

void PgAckStore::release_connection(const std::string& connection_id) {
  conn_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params("SELECT pg_advisory_unlock($1, hashtext($2))", kAckPollLock, connection_id);
    return 0;
  });
}

std::vector<std::optional<AckTarget>> PgAckStore::find_exports(const std::string& connection_id,
                                                               const std::vector<AckName>& names) {
  std::vector<std::string> file_names, draft_ids;
  for (const auto& name : names) {
    (name.by_draft_id ? draft_ids : file_names)
        .push_back(name.by_draft_id ? name.reference : name.reference + ".json");
  }
  return conn_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::map<std::string, AckTarget> by_file, by_draft;
    if (!file_names.empty()) {
      for (const auto& row : tx.exec_params(
               std::string("SELECT file_name, id, status::text AS status, ")
                   .append(kFailedByAckTimeout)
                   .append("  FROM erp_exports"
                           " WHERE erp_connection_id = $1 AND file_name = ANY($2::text[])"),
               connection_id, pg_array(file_names))) {
        by_file[row["file_name"].as<std::string>()] = target(row);
      }
    }
    if (!draft_ids.empty()) {
      for (const auto& row :
           tx.exec_params(std::string("SELECT DISTINCT ON (draft_order_id)"
                                      "       lower(draft_order_id::text) AS draft_key, id,"
                                      "       status::text AS status, ")
                              .append(kFailedByAckTimeout)
                              .append("  FROM erp_exports"
                                      " WHERE erp_connection_id = $1"
                                      "   AND draft_order_id = ANY($2::uuid[])"
                                      " ORDER BY draft_order_id, status = 'SENT' DESC,"
                                      "          sent_at DESC NULLS LAST, created_at DESC"),
                          connection_id, pg_array(draft_ids))) {
        by_draft[row["draft_key"].as<std::string>()] = target(row);
      }
    }
    std::vector<std::optional<AckTarget>> out;
    for (const auto& name : names) {
      std::string key = name.by_draft_id ? name.reference : name.reference + ".json";
      if (name.by_draft_id) {
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      }
      const auto& found = name.by_draft_id ? by_draft : by_file;
      const auto it = found.find(key);
      out.push_back(it == found.end() ? std::nullopt : std::optional(it->second));
    }
    return out;
  });
}

AckStore::BatchResult PgAckStore::record(const std::string& connection_id,
                                         const std::vector<AckFileRecord>& files) {
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    nlohmann::json item = {{"idx", i},
                           {"file_name", f.file_name},
                           {"byte_size", f.byte_size},
                           {"sha256", f.sha256_hex},
                           {"verdict", to_string(f.verdict)},
                           {"reason", f.reason},
                           {"export_id", f.export_id ? nlohmann::json(*f.export_id) : nullptr},
                           {"disposition", disposition_name(f.disposition)}};
    if (f.content) {
      const bool acked = f.content->kind == AckKind::ack;
      item["status"] = acked ? "ACKED" : "FAILED";
      item["erp_order_id"] = acked ? nlohmann::json(f.content->erp_order_id) : nullptr;
      item["error_json"] = acked ? nlohmann::json(nullptr) : f.content->error;
    }
    items.push_back(std::move(item));
  }
  return conn_.run([&](pqxx::connection& c) {
    BatchResult out{std::vector<RecordResult>(files.size(), RecordResult::recorded),
                    std::vector<AckDisposition>(files.size()),
                    std::vector<std::string>(files.size())};
    for (size_t i = 0; i < files.size(); ++i) {
      out.dispositions[i] = files[i].disposition;
    }
    pqxx::work tx(c);
    // The whole batch behind one savepoint; only when the database refuses
    // some record is each one tried behind its own, so the refused record
    // alone is marked for error/ and the others still commit.
    if (!record_refusable(tx, connection_id, files, items, out)) {
      for (const auto& item : items) {
        const nlohmann::json one = nlohmann::json::array({item});
        if (record_refusable(tx, connection_id, files, one, out)) {
          continue;
        }
        const auto i = item["idx"].get<size_t>();
        nlohmann::json invalid = item;
        for (const char* key : {"status", "erp_order_id", "error_json"}) {
          invalid.erase(key);
        }
        invalid["verdict"] = to_string(AckFileVerdict::invalid);
        invalid["reason"] = out.refused[i];
        invalid["disposition"] = disposition_name(AckDisposition::error);
        out.dispositions[i] = AckDisposition::error;
        record_items(tx, connection_id, files, nlohmann::json::array({invalid}), out);
      }
    }
    tx.commit();
    return out;
  });
}

// Idle polls of many connections every few seconds would otherwise write a
// row each time for nothing: the row is written when the outcome changes,
// or to refresh a time of the last poll that is a minute old.
void PgAckStore::record_poll(const std::string& connection_id, const std::string& error) {
  conn_.run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(
        "UPDATE erp_connections SET last_ack_poll_at = now(),"
        "       last_ack_poll_error = nullif($2, '')"
        " WHERE id = $1"
        "   AND (last_ack_poll_error IS DISTINCT FROM nullif($2, '')"
        "        OR last_ack_poll_at IS NULL OR last_ack_poll_at < now() - interval '1 minute')",
        connection_id, error);
    tx.commit();
    return 0;
  });
}

}  // namespace exportd
