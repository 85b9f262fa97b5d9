// ExportHistory on PostgreSQL: one short read-only transaction per call, so
// `show` sees the export, its ack files and its audit entries as of one moment.
#pragma once

#include <string>

#include "ports/export_history.h"

namespace exportd {

class PgExportHistory : public ExportHistory {
 public:
  explicit PgExportHistory(std::string database_url);

  std::optional<ExportRecord> find(const std::string& export_id) override;
  std::optional<ExportStory> story(const std::string& export_id) override;
  StoredConnection connection(const std::string& connection_id) override;
  void record_resent(const ExportRecord& record, const std::optional<std::string>& actor,
                     const std::string& path) override;

 private:
  std::string database_url_;
};

}  // namespace exportd
