// Retention with fakes: which day folders go, 0 keeps forever, dry runs
// change nothing, batches loop until done, one host at a time, and a failing
// part never stops the others.
#include <catch2/catch.hpp>

#include <thread>

#include "app/retention.h"
#include "app/retention_schedule.h"
#include "domain/retention.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/fakes/fake_metrics.h"
#include "tests/fakes/fake_retention_store.h"

using namespace exportd;
using namespace exportd::testing;
using namespace std::chrono;

namespace {

// 2026-11-23T10:00:00Z
const system_clock::time_point kNow = sys_days{2026y / November / 23} + 10h;

class FakeArchive final : public Archive {
 public:
  std::string put(const std::string& name, std::string_view, const std::string&) override {
    return name;
  }
  std::optional<std::string> get(const std::string&) override { return std::nullopt; }
  void remove(const std::string& location) override {
    if (location == fail_at) {
      throw Failure(FailureKind::transient, "injected archive failure");
    }
    removed.push_back(location);
  }
  std::vector<std::string> removed;
  std::string fail_at;
};

struct RetentionRig {
  FakeDropzone dropzone;
  DropzoneCache dropzones{dropzone, [](const ConnectionSettings&) { return nullptr; },
                          [](const std::string& s) { return s; }, 1};
  FakeRetentionStore store;
  FakeArchive archive;
  Retention retention{store, dropzones, &archive,
                      RetentionOptions{.batch_size = 2, .now = [] { return kNow; }}};

  RetentionRig() {
    store.connections.push_back(
        {"c1", R"({"mode":"filesystem","export_path":"/drop/exports","ack_path":"/drop/acks"})",
         ""});
  }
  void file(const std::string& path) { dropzone.files["/drop/acks/" + path] = "{}"; }
  std::vector<std::string> files() {
    std::vector<std::string> out;
    for (const auto& [path, bytes] : dropzone.files) {
      out.push_back(path.substr(std::string("/drop/acks/").size()));
    }
    return out;
  }
  void days_old(PruneKind kind, std::initializer_list<int> ages) {
    for (const int age : ages) {
      store.rows[kind].push_back(kNow - days(age));
    }
  }
};

}  // namespace

TEST_CASE("day folders: by their date, whole UTC days, non-dates never", "[retention][domain]") {
  // 30 days before 2026-11-23T10:00Z is 2026-10-24T10:00Z: the 23rd ended before.
  CHECK(day_folder_expired("2026-10-23", 30, kNow));
  CHECK_FALSE(day_folder_expired("2026-10-24", 30, kNow));
  CHECK(day_folder_expired("2025-12-31", 30, kNow));
  for (const char* name : {"2026-02-30", "2026-13-01", "2026-1-01", "20261001", "notes",
                           "2026-10-0x", "+026-10-01", "2026-10-01.old", ""}) {
    INFO(name);
    CHECK_FALSE(day_folder_expired(name, 30, kNow));
  }
}

TEST_CASE("retention removes day folders older than ack_files_days, keeps younger and others",
          "[retention]") {
  RetentionRig rig;
  rig.file("processed/2026-10-01/ack_a.json");
  rig.file("processed/2026-10-01/ack_b.json");
  rig.file("processed/2026-10-23/ack_c.json");
  rig.file("processed/2026-10-24/ack_d.json");
  rig.file("processed/2026-11-23/ack_e.json");
  rig.file("processed/archive-old/ack_f.json");
  rig.file("error/2026-09-01/ack_g.json");
  rig.file("error/2026-11-01/ack_h.json");
  rig.file("ack_waiting.json");
  rig.days_old(PruneKind::ack_file_records, {90, 31, 30, 29, 1});

  const auto report = rig.retention.run({.ack_files_days = 30, .archive_days = 0}, false);
  CHECK(report.removed.at(PruneKind::ack_files) == 4);
  CHECK(report.removed.at(PruneKind::ack_file_records) == 2);
  CHECK(report.failures.empty());
  CHECK(rig.files() == std::vector<std::string>{"ack_waiting.json", "error/2026-11-01/ack_h.json",
                                                "processed/2026-10-24/ack_d.json",
                                                "processed/2026-11-23/ack_e.json",
                                                "processed/archive-old/ack_f.json"});
  CHECK(rig.store.rows[PruneKind::ack_file_records].size() == 3);
  CHECK_FALSE(rig.store.locked);  // released after the run
}

TEST_CASE("retention: 0 days keeps a kind forever", "[retention]") {
  RetentionRig rig;
  rig.file("processed/2020-01-01/ack_a.json");
  rig.days_old(PruneKind::ack_file_records, {3000});
  rig.days_old(PruneKind::exports, {3000});
  rig.days_old(PruneKind::audit_entries, {3000});
  rig.store.copies.push_back({kNow - days(3000), {"e1", "acme/2018/x.json"}});

  const auto report = rig.retention.run(
      {.ack_files_days = 0, .archive_days = 0, .finished_exports_days = 0, .audit_days = 0}, false);
  for (const auto kind : kPruneKinds) {
    CHECK(report.removed.at(kind) == 0);
  }
  CHECK(rig.files().size() == 1);
  CHECK(rig.store.batches.empty());
  CHECK(rig.archive.removed.empty());
}

TEST_CASE("retention: a dry run counts what would go and removes nothing", "[retention]") {
  RetentionRig rig;
  rig.file("processed/2026-10-01/ack_a.json");
  rig.file("error/2026-10-01/ack_b.json");
  rig.days_old(PruneKind::ack_file_records, {90, 80, 70, 1});
  rig.days_old(PruneKind::exports, {400, 1});
  rig.days_old(PruneKind::audit_entries, {800, 400, 10});
  rig.store.copies.push_back({kNow - days(400), {"e1", "acme/2025/x.json"}});

  const RetentionConfig all{
      .ack_files_days = 30, .archive_days = 365, .finished_exports_days = 90, .audit_days = 365};
  const auto dry = rig.retention.run(all, true);
  CHECK(dry.dry_run);
  CHECK(dry.removed == std::map<PruneKind, size_t>{{PruneKind::ack_files, 2},
                                                   {PruneKind::ack_file_records, 3},
                                                   {PruneKind::archive_copies, 1},
                                                   {PruneKind::exports, 1},
                                                   {PruneKind::audit_entries, 2}});
  CHECK(rig.files().size() == 2);
  CHECK(rig.store.rows[PruneKind::ack_file_records].size() == 4);
  CHECK(rig.store.rows[PruneKind::audit_entries].size() == 3);
  CHECK(rig.archive.removed.empty());
  CHECK(rig.store.forgotten.empty());

  // The real run removes exactly what the dry run counted.
  const auto real = rig.retention.run(all, false);
  CHECK(real.removed == dry.removed);
  CHECK(rig.files().empty());
  CHECK(rig.archive.removed == std::vector<std::string>{"acme/2025/x.json"});
  CHECK(rig.store.forgotten == std::vector<std::string>{"e1"});
}

TEST_CASE("retention goes in batches until nothing older is left", "[retention]") {
  RetentionRig rig;
  rig.days_old(PruneKind::audit_entries, {900, 800, 700, 600, 500, 10});
  const auto report = rig.retention.run({.ack_files_days = 0, .audit_days = 365}, false);
  CHECK(report.removed.at(PruneKind::audit_entries) == 5);
  CHECK(rig.store.batches[PruneKind::audit_entries] == 3);  // 2 + 2 + 1, batch size 2
  CHECK(rig.store.rows[PruneKind::audit_entries].size() == 1);
}

TEST_CASE("retention gives the database back four times as long as each batch took",
          "[retention]") {
  FakeDropzone dropzone;
  DropzoneCache dropzones{dropzone, [](const ConnectionSettings&) { return nullptr; },
                          [](const std::string& s) { return s; }, 1};
  FakeRetentionStore store;
  // Every reading of the clock is 10 ms after the one before: each batch,
  // read before and after, takes 10 ms.
  std::chrono::steady_clock::time_point clock{};
  std::vector<std::chrono::nanoseconds> pauses;
  Retention retention{
      store, dropzones, nullptr,
      RetentionOptions{.batch_size = 2,
                       .now = [] { return kNow; },
                       .clock =
                           [&] {
                             clock += std::chrono::milliseconds(10);
                             return clock;
                           },
                       .pause = [&](std::chrono::nanoseconds pause,
                                    const std::stop_token&) { pauses.push_back(pause); }}};
  for (const int age : {900, 800, 700, 600, 500}) {
    store.rows[PruneKind::audit_entries].push_back(kNow - days(age));
  }
  retention.run({.ack_files_days = 0, .archive_days = 0, .audit_days = 365}, false);
  REQUIRE(store.batches[PruneKind::audit_entries] == 3);
  CHECK(pauses == std::vector<std::chrono::nanoseconds>(3, std::chrono::milliseconds(40)));
}

TEST_CASE("retention: another host pruning means this one does nothing", "[retention]") {
  RetentionRig rig;
  rig.file("processed/2020-01-01/ack_a.json");
  rig.store.held_elsewhere = true;
  const auto report = rig.retention.run({}, false);
  CHECK(report.skipped);
  CHECK(rig.files().size() == 1);
  CHECK(rig.store.batches.empty());
  CHECK(prune_report_text(report) == "another process is pruning now; nothing was done\n");
}

TEST_CASE("retention without an archive keeps the copies and says so", "[retention]") {
  RetentionRig rig;
  rig.store.copies.push_back({kNow - days(400), {"e1", "acme/2025/x.json"}});
  Retention without(rig.store, rig.dropzones, nullptr, {.now = [] { return kNow; }});
  const auto report = without.run({.ack_files_days = 0, .archive_days = 365}, false);
  CHECK(report.removed.at(PruneKind::archive_copies) == 0);
  CHECK(rig.store.forgotten.empty());
  REQUIRE(report.notes.size() == 1);
  CHECK_THAT(report.notes[0], Catch::Contains("no [archive] is configured"));
}

TEST_CASE("retention: a failing part is reported and the others still run", "[retention]") {
  RetentionRig rig;
  for (int i = 0; i < 3; ++i) {
    rig.store.copies.push_back(
        {kNow - days(400 + i), {"e" + std::to_string(i), "copy-" + std::to_string(i)}});
  }
  rig.archive.fail_at = "copy-1";
  rig.store.failing = PruneKind::exports;
  rig.days_old(PruneKind::audit_entries, {900});
  rig.file("processed/2020-01-01/sub/x.json");  // in the way
  rig.file("processed/2020-01-02/ack_b.json");

  const auto report = rig.retention.run(
      {.ack_files_days = 30, .archive_days = 365, .finished_exports_days = 30, .audit_days = 365},
      false);
  // The copy removed before the failure is forgotten; the failed one stays recorded.
  CHECK(rig.store.forgotten == std::vector<std::string>{"e0"});
  CHECK(report.removed.at(PruneKind::archive_copies) == 1);
  CHECK(report.removed.at(PruneKind::audit_entries) == 1);
  // The folder with something in the way is reported, the next day still goes.
  CHECK(report.removed.at(PruneKind::ack_files) == 1);
  REQUIRE(report.failures.size() == 3);
  CHECK_THAT(report.failures[0], Catch::StartsWith("connection c1: "));
  CHECK(report.failures[1] == "exports: injected database failure");
  CHECK(report.failures[2] == "archive_copies: injected archive failure");
  const auto text = prune_report_text(report);
  CHECK_THAT(text, Catch::Contains("ack_files: 1 removed\n") &&
                       Catch::Contains("failed: exports: injected database failure\n"));
  const auto json = prune_report_json(report);
  CHECK(json["removed"]["audit_entries"] == 1);
  CHECK(json["dry_run"] == false);
  CHECK(json["failures"].size() == 3);
}

TEST_CASE("retention stops between batches once asked to", "[retention]") {
  RetentionRig rig;
  rig.days_old(PruneKind::audit_entries, {900, 800, 700});
  std::stop_source stop;
  stop.request_stop();
  const auto report =
      rig.retention.run({.ack_files_days = 0, .audit_days = 365}, false, stop.get_token());
  CHECK(report.removed.at(PruneKind::audit_entries) == 0);
  CHECK(rig.store.rows[PruneKind::audit_entries].size() == 3);
}

TEST_CASE("the daemon's retention runs soon after start, with the keys of the last reload",
          "[retention]") {
  RetentionRig rig;
  rig.days_old(PruneKind::audit_entries, {900, 800, 10});
  rig.days_old(PruneKind::ack_file_records, {40});
  FakeMetrics metrics;
  RetentionSchedule schedule(rig.retention, metrics, {.ack_files_days = 0, .audit_days = 0},
                             {.first_run = milliseconds(50), .every = hours(1)});
  schedule.update({.ack_files_days = 0, .audit_days = 365});  // as SIGHUP would
  schedule.start();
  const auto deadline = steady_clock::now() + seconds(10);
  while (metrics.pruned(PruneKind::audit_entries) < 2 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  schedule.stop();
  CHECK(metrics.pruned(PruneKind::audit_entries) == 2);
  CHECK(metrics.pruned(PruneKind::ack_file_records) == 0);  // 0 days: kept
  CHECK(rig.store.rows[PruneKind::ack_file_records].size() == 1);
}

TEST_CASE("the daemon's retention stops at once while it waits", "[retention]") {
  RetentionRig rig;
  FakeMetrics metrics;
  RetentionSchedule schedule(rig.retention, metrics, {}, {.first_run = hours(1)});
  schedule.start();
  const auto started = steady_clock::now();
  schedule.stop();
  CHECK(steady_clock::now() - started < seconds(1));
  CHECK(rig.store.batches.empty());
}
