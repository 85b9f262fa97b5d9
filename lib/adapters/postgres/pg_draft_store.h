// DraftStore on PostgreSQL: each command is one transaction that locks the
// draft's row first, so concurrent commands on one draft run one at a time.
#pragma once

#include <string>

#include "ports/draft_store.h"

namespace exportd {

class PgDraftStore : public DraftStore {
 public:
  explicit PgDraftStore(std::string database_url);

  void approve(const std::string& draft_id, const std::string& actor) override;
  std::string enqueue(const std::string& draft_id, DraftStatus from,
                      const std::optional<std::string>& actor) override;
  StatusReport status_report() override;

 private:
  std::string database_url_;
};

}  // namespace exportd
