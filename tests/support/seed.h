// Test and benchmark data: an org with a filesystem connection, drafts with
// lines, PENDING exports, inserted with plain SQL as the application would.
#pragma once

#include <string>
#include <vector>

namespace exportd::testing {

struct SeededOrg {
  std::string org_id;
  std::string slug;
  std::string connection_id;
  std::string customer_id;
};

// `export_path` may lie outside the daemon's roots to provoke refusals.
SeededOrg seed_org(const std::string& database_url, const std::string& slug,
                   const std::string& export_path, const std::string& ack_path);

// Creates `count` PUSHING drafts with `lines` lines each and one PENDING
// export per draft, in one transaction. Returns the export ids.
std::vector<std::string> seed_exports(const std::string& database_url, const SeededOrg& org,
                                      int count, int lines);

// Records the exports as delivered, as the workers would: file name
// `sales_order_{export id}.json`, SENT, the draft PUSHED.
void mark_sent(const std::string& database_url, const std::vector<std::string>& export_ids);

// Runs one query and returns the first column of the first row ("" for NULL).
std::string query_value(const std::string& database_url, const std::string& sql);

}  // namespace exportd::testing
