// A retention store over dated rows in memory, for tests of the app layer:
// it honours cursors, batch limits and dry runs, and counts its batches.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/failure.h"
#include "ports/retention_store.h"

namespace exportd::testing {

class FakeRetentionStore final : public RetentionStore {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  bool try_lock() override {
    if (held_elsewhere || locked) {
      return false;
    }
    locked = true;
    return true;
  }
  void unlock() override { locked = false; }
  std::vector<AckConnection> active_connections() override { return connections; }

  // Rows of a kind are kept sorted by date; those older than `before` are a
  // prefix, and the cursor is an index into it.
  PruneBatch prune_rows(PruneKind kind, TimePoint before, size_t limit, PruneCursor& cursor,
                        bool dry_run) override {
    ++batches[kind];
    if (failing == kind) {
      throw Failure(FailureKind::transient, "injected database failure");
    }
    auto& dates = rows[kind];
    std::sort(dates.begin(), dates.end());
    const size_t older = static_cast<size_t>(
        std::count_if(dates.begin(), dates.end(), [&](TimePoint at) { return at < before; }));
    size_t start = cursor.position.empty() ? 0 : std::stoul(cursor.position);
    const size_t take = std::min(limit, older - start);
    if (dry_run) {
      start += take;
    } else {
      dates.erase(dates.begin() + static_cast<std::ptrdiff_t>(start),
                  dates.begin() + static_cast<std::ptrdiff_t>(start + take));
    }
    cursor.position = std::to_string(start);
    return {take, take < limit};
  }

  std::vector<ArchivedCopy> archived_copies(TimePoint before, size_t limit,
                                            PruneCursor& cursor) override {
    std::vector<ArchivedCopy> out;
    size_t at = cursor.position.empty() ? 0 : std::stoul(cursor.position);
    for (; at < copies.size() && out.size() < limit; ++at) {
      if (copies[at].first < before &&
          !std::count(forgotten.begin(), forgotten.end(), copies[at].second.export_id)) {
        out.push_back(copies[at].second);
      }
    }
    cursor.position = std::to_string(at);
    return out;
  }
  void forget_archived_copies(const std::vector<std::string>& export_ids) override {
    forgotten.insert(forgotten.end(), export_ids.begin(), export_ids.end());
  }

  bool held_elsewhere = false;  // another host prunes now
  bool locked = false;
  std::vector<AckConnection> connections;
  std::map<PruneKind, std::vector<TimePoint>> rows;
  std::vector<std::pair<TimePoint, ArchivedCopy>> copies;  // by date of sending
  std::vector<std::string> forgotten;                      // export ids whose key was cleared
  std::map<PruneKind, int> batches;
  std::optional<PruneKind> failing;
};

}  // namespace exportd::testing
