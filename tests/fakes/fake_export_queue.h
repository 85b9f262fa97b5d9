// In-memory ExportQueue and Dropzone for unit tests of the worker pool. They
// model only what the pool relies on: leases that lapse, attempts, the final
// states.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "domain/failure.h"
#include "ports/dropzone.h"
#include "ports/export_queue.h"

namespace exportd::testing {

using FakeClock = std::chrono::steady_clock;

struct FakeExport {
  ClaimedExport claim;
  std::string status = "PENDING";
  bool leased = false;  // claimed and not released (the lease may have lapsed)
  std::string lease_owner;
  FakeClock::time_point lease_expires;
  int attempts = 0;
  int claims = 0;  // a lapsed lease lets another worker claim it again
  nlohmann::json error;
  std::optional<std::chrono::milliseconds> last_retry_after;
  int postponements = 0;
  std::string archive_key;  // as recorded with SENT
};

class FakeExportStore {
 public:
  void add(const std::string& id, nlohmann::json connection_config,
           const std::string& connection_id = "conn-1") {
    std::lock_guard lock(mutex);
    FakeExport e;
    e.claim.export_id = id;
    e.claim.draft_order_id = "d-" + id;
    e.claim.connection_id = connection_id;
    e.claim.file_name = "sales_order_" + id + ".json";
    e.claim.connection_config = connection_config.dump();
    // The document must keep the export contract, whose ids are UUIDs.
    const auto uuid = [n = exports.size()](const char* group) {
      char text[37];
      std::snprintf(text, sizeof text, "00000000-0000-4000-%s-%012zx", group, n);
      return std::string(text);
    };
    e.claim.source.export_id = uuid("8000");
    e.claim.source.draft_order_id = uuid("9000");
    e.claim.source.org_slug = "acme";
    e.claim.source.created_at = "2025-12-26T10:00:01Z";
    exports[id] = e;
  }
  FakeExport get(const std::string& id) {
    std::lock_guard lock(mutex);
    return exports.at(id);
  }
  // True while `owner` holds the lease of `e`. Callers hold `mutex`.
  bool holds(const FakeExport& e, const std::string& owner) const {
    return e.leased && e.lease_owner == owner && now() < e.lease_expires;
  }

  std::mutex mutex;
  std::map<std::string, FakeExport> exports;
  bool steal_leases_before_record = false;  // simulates another worker taking over
  // Throws to refuse recording an export SENT, as a rule in the database would.
  std::function<void(const std::string& export_id)> refuse_sent;
  std::function<FakeClock::time_point()> now = [] { return FakeClock::now(); };
  // Records, failures and postponements refused because the lease was gone.
  int lost = 0;
  // The connections of each claim's batch, in claim order.
  std::vector<std::set<std::string>> batches;
};

class FakeExportQueue : public ExportQueue {
 public:
  explicit FakeExportQueue(FakeExportStore& store, std::string owner = "worker")
      : store_(store), owner_(std::move(owner)) {}

  // The connections taken round-robin, batchable ones together, as the port
  // says.
  std::vector<ClaimedExport> claim(const ClaimRequest& request) override {
    std::lock_guard lock(store_.mutex);
    const auto now = store_.now();
    const auto claimable = [&](const FakeExport& e) {
      return e.status == "PENDING" && (!e.leased || now >= e.lease_expires) && !e.last_retry_after;
    };
    const auto listed = [](const std::vector<std::string>& list, const std::string& id) {
      return std::find(list.begin(), list.end(), id) != list.end();
    };
    std::set<std::string> due_connections;
    for (const auto& [id, e] : store_.exports) {
      if (claimable(e) && !listed(request.excluded_connections, e.claim.connection_id)) {
        due_connections.insert(e.claim.connection_id);
      }
    }
    if (due_connections.empty()) {
      return {};
    }
    // The lap: after the cursor, then from the first.
    std::vector<std::string> lap(due_connections.upper_bound(request.after_connection),
                                 due_connections.end());
    lap.insert(lap.end(), due_connections.begin(),
               due_connections.upper_bound(request.after_connection));
    std::map<std::string, bool> local;
    for (const auto& [id, e] : store_.exports) {
      local[e.claim.connection_id] =
          e.claim.connection_config &&
          nlohmann::json::parse(*e.claim.connection_config).value("mode", "") == "filesystem";
    }
    const auto batchable = [&](const std::string& connection) {
      return local[connection] && !listed(request.unbatchable_connections, connection);
    };
    std::vector<std::string> chosen{lap.front()};
    if (batchable(lap.front())) {
      for (size_t i = 1; i < lap.size(); ++i) {
        if (batchable(lap[i])) {
          chosen.push_back(lap[i]);
        }
      }
    }
    std::vector<ClaimedExport> out;
    while (out.size() < request.max) {
      bool any = false;
      for (const auto& connection : chosen) {
        size_t seen = 0;
        for (auto& [id, e] : store_.exports) {
          if (e.claim.connection_id != connection || !claimable(e)) {
            continue;
          }
          if (seen++ == 0 && out.size() < request.max) {  // its oldest not yet taken
            e.leased = true;
            e.lease_owner = owner_;
            e.lease_expires = now + request.lease;
            ++e.claims;
            e.claim.attempts = ++e.attempts;
            e.claim.lease_owner = owner_;
            out.push_back(e.claim);
            any = true;
          }
        }
      }
      if (!any) {
        break;
      }
    }
    std::set<std::string> connections;
    for (const auto& c : out) {
      connections.insert(c.connection_id);
    }
    store_.batches.push_back(connections);
    return out;
  }
  size_t renew(const std::vector<LeaseHolder>& leases, std::chrono::milliseconds lease) override {
    std::lock_guard lock(store_.mutex);
    size_t held = 0;
    for (const auto& l : leases) {
      auto& e = store_.exports.at(l.export_id);
      if (e.status == "PENDING" && store_.holds(e, l.owner)) {
        e.lease_expires = store_.now() + lease;
        ++held;
      }
    }
    return held;
  }
  std::vector<std::string> record_sent(const std::vector<DeliveryRecord>& deliveries) override {
    std::lock_guard lock(store_.mutex);
    for (const auto& d : deliveries) {
      if (store_.refuse_sent) {
        store_.refuse_sent(d.export_id);  // all or nothing, like a transaction
      }
    }
    std::vector<std::string> lost;
    for (const auto& d : deliveries) {
      auto& e = store_.exports.at(d.export_id);
      if (store_.steal_leases_before_record || !holds(e)) {
        lost.push_back(d.export_id);
        continue;
      }
      e.status = "SENT";
      e.archive_key = d.archive_key;
      e.leased = false;
    }
    return lost;
  }
  void record_failure(const FailureRecord& failure) override {
    std::lock_guard lock(store_.mutex);
    auto& e = store_.exports.at(failure.export_id);
    if (!holds(e)) {
      return;
    }
    e.leased = false;
    e.error = failure.error;
    e.last_retry_after = failure.retry_after;
    if (!failure.retry_after) {
      e.status = "FAILED";
    }
  }
  void postpone(const std::string& export_id, std::chrono::milliseconds delay) override {
    std::lock_guard lock(store_.mutex);
    auto& e = store_.exports.at(export_id);
    if (!holds(e)) {
      return;
    }
    e.leased = false;
    --e.attempts;
    ++e.postponements;
    // Due again at once, or when the test's clock has moved on.
    e.last_retry_after = delay > std::chrono::milliseconds(0) ? std::optional(delay) : std::nullopt;
  }
  // Makes exports waiting for a retry due again (the test's clock moves on).
  static void make_retries_due(FakeExportStore& store) {
    std::lock_guard lock(store.mutex);
    for (auto& [id, e] : store.exports) {
      e.last_retry_after.reset();
    }
  }

 private:
  // Whether this queue still holds `e`'s lease; counts a refusal. Callers hold the mutex.
  bool holds(const FakeExport& e) {
    const bool held = store_.holds(e, owner_);
    store_.lost += held ? 0 : 1;
    return held;
  }

  FakeExportStore& store_;
  std::string owner_;
};

// A dropzone that records writes and fails on demand.
class FakeDropzone : public Dropzone {
 public:
  WriteResult write_file(const std::string& directory, const std::string& name,
                         std::string_view bytes, WriteOptions) override {
    if (before_write) {
      before_write();
    }
    if (before_write_in) {
      before_write_in(directory);
    }
    std::lock_guard lock(mutex);
    ++writes;
    if (write_failure) {
      throw Failure(*write_failure, "injected write failure");
    }
    const auto path = directory + "/" + name;
    const bool present = files.contains(path);
    if (!present) {
      files[path] = std::string(bytes);
    }
    return {path, present};
  }
  void sync_directory(const std::string&) override {
    std::lock_guard lock(mutex);
    ++directory_syncs;
    if (sync_fails) {
      throw Failure(FailureKind::transient, "injected fsync failure");
    }
  }
  DropzoneCapabilities capabilities() const override { return supported; }
  std::vector<DirectoryEntry> list_files(const std::string& directory) override {
    std::lock_guard lock(mutex);
    std::vector<DirectoryEntry> entries;
    for (const auto& [path, bytes] : files) {
      if (path.starts_with(directory + "/") &&
          path.find('/', directory.size() + 1) == std::string::npos) {
        entries.push_back({path.substr(directory.size() + 1),
                           static_cast<std::int64_t>(bytes.size()),
                           std::chrono::system_clock::now()});
      }
    }
    return entries;
  }
  std::optional<std::string> read_file(const std::string& directory, const std::string& name,
                                       size_t max_bytes) override {
    std::lock_guard lock(mutex);
    const auto it = files.find(directory + "/" + name);
    if (it == files.end()) {
      throw Failure(FailureKind::transient, "no such file");
    }
    return it->second.size() > max_bytes ? std::nullopt : std::optional(it->second);
  }
  bool move_file(const std::string& directory, const std::string& name,
                 const std::string& to_directory, const std::string& to_name) override {
    std::lock_guard lock(mutex);
    const auto target = to_directory + "/" + to_name;
    if (files.contains(target)) {
      return false;
    }
    files[target] = files.at(directory + "/" + name);
    files.erase(directory + "/" + name);
    return true;
  }
  void remove_file(const std::string& directory, const std::string& name) override {
    std::lock_guard lock(mutex);
    files.erase(directory + "/" + name);
  }
  void make_directory(const std::string& directory) override {
    std::lock_guard lock(mutex);
    directories.insert(directory);
  }
  // Subdirectories: those made, and those holding files.
  std::vector<std::string> list_directories(const std::string& directory) override {
    std::lock_guard lock(mutex);
    std::set<std::string> names;
    const auto child = [&](const std::string& path) {
      const auto end = path.find('/', directory.size() + 1);
      if (path.starts_with(directory + "/")) {
        names.insert(path.substr(directory.size() + 1, end - directory.size() - 1));
      }
    };
    for (const auto& d : directories) {
      if (d.find('/', directory.size() + 1) == std::string::npos) {
        child(d);
      }
    }
    for (const auto& [path, bytes] : files) {
      if (path.find('/', directory.size() + 1) != std::string::npos) {
        child(path);
      }
    }
    return {names.begin(), names.end()};
  }
  size_t remove_directory(const std::string& directory) override {
    std::lock_guard lock(mutex);
    const auto in_it = [&](const std::string& path) { return path.starts_with(directory + "/"); };
    size_t removed = std::erase_if(files, [&](const auto& file) {
      return in_it(file.first) && file.first.find('/', directory.size() + 1) == std::string::npos;
    });
    if (std::any_of(files.begin(), files.end(), [&](const auto& f) { return in_it(f.first); })) {
      throw Failure(FailureKind::permanent, "'" + directory + "' holds more than files");
    }
    directories.erase(directory);
    return removed;
  }

  std::mutex mutex;
  std::map<std::string, std::string> files;
  std::set<std::string> directories;
  std::optional<FailureKind> write_failure;
  bool sync_fails = false;
  DropzoneCapabilities supported;
  int directory_syncs = 0;
  int writes = 0;
  std::function<void()> before_write;  // runs unlocked, first thing in write_file
  std::function<void(const std::string& directory)> before_write_in;  // runs next
};

}  // namespace exportd::testing
