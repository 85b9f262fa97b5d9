// The `resend` rules and the `show` renderings, with fakes for the export
// history, the archive and the dropzone.
#include <catch2/catch.hpp>
#include <map>

#include "app/dropzone_cache.h"
#include "app/export_show.h"
#include "app/resend.h"
#include "app/sha256.h"
#include "domain/failure.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/support/failure_kind.h"

using namespace exportd;
using namespace exportd::testing;

namespace {

const std::string kExportId = "aaaaaaaa-0000-0000-0000-000000000001";
const std::string kActor = "bbbbbbbb-0000-0000-0000-000000000002";
const std::string kBytes = "{\"order\":1}\n";

class ResendFakeHistory : public ExportHistory {
 public:
  ResendFakeHistory() {
    record.export_id = kExportId;
    record.org_id = "cccccccc-0000-0000-0000-000000000003";
    record.org_slug = "acme";
    record.connection_id = "conn-1";
    record.draft_id = "dddddddd-0000-0000-0000-000000000004";
    record.status = ExportStatus::sent;
    record.attempts = 1;
    record.file_name = "sales_order_a.json";
    record.sha256 = sha256_hex(kBytes);
    record.archive_key = "acme/2026/11/23/sales_order_a.json";
  }
  std::optional<ExportRecord> find(const std::string& id) override {
    return id == record.export_id ? std::optional(record) : std::nullopt;
  }
  std::optional<ExportStory> story(const std::string& id) override {
    if (id != record.export_id) {
      return std::nullopt;
    }
    return ExportStory{record, ack_files, audit};
  }
  StoredConnection connection(const std::string&) override { return stored; }
  void record_resent(const ExportRecord& r, const std::optional<std::string>& actor,
                     const std::string& path) override {
    resent.push_back({r.export_id, actor.value_or("-"), path});
  }

  ExportRecord record;
  std::vector<HandledAckFile> ack_files;
  std::vector<AuditRecord> audit;
  StoredConnection stored{
      "conn-1",
      nlohmann::json::parse(R"({"mode":"filesystem","export_path":"/in","ack_path":"/out"})"), "",
      true};
  std::vector<std::array<std::string, 3>> resent;  // export, actor, path
};

class ResendFakeArchive : public Archive {
 public:
  std::string put(const std::string& name, std::string_view bytes, const std::string&) override {
    copies[name] = std::string(bytes);
    return name;
  }
  std::optional<std::string> get(const std::string& location) override {
    const auto it = copies.find(location);
    return it == copies.end() ? std::nullopt : std::optional(it->second);
  }
  void remove(const std::string& location) override { copies.erase(location); }
  std::map<std::string, std::string> copies;
};

struct ResendRig {
  ResendFakeHistory history;
  ResendFakeArchive archive;
  FakeDropzone dropzone;
  DropzoneCache dropzones{dropzone, nullptr, nullptr, 1};
  ResendRig() { archive.put(*history.record.archive_key, kBytes, ""); }
  ResendResult resend(std::optional<std::string> actor = kActor, bool with_archive = true) {
    return resend_export(history, with_archive ? &archive : nullptr, dropzones,
                         {kExportId, std::move(actor)});
  }
  FailureKind refusal(bool with_archive = true) {
    return kind_of([&] { resend(kActor, with_archive); });
  }
};

}  // namespace

TEST_CASE("resend writes the archived bytes under the file name and audits the actor", "[resend]") {
  for (const auto status : {ExportStatus::sent, ExportStatus::acked}) {
    ResendRig rig;
    rig.history.record.status = status;
    const auto result = rig.resend();
    CHECK(result.written);
    CHECK(result.path == "/in/sales_order_a.json");
    CHECK(rig.dropzone.files.at("/in/sales_order_a.json") == kBytes);
    CHECK(rig.dropzone.directory_syncs == 1);
    REQUIRE(rig.history.resent.size() == 1);
    CHECK(rig.history.resent[0] ==
          std::array<std::string, 3>{kExportId, kActor, "/in/sales_order_a.json"});
  }
  ResendRig anonymous;
  anonymous.resend(std::nullopt);
  CHECK(anonymous.history.resent.at(0)[1] == "-");
}

TEST_CASE("a file still in the dropzone is not written again", "[resend]") {
  ResendRig rig;
  rig.dropzone.files["/in/sales_order_a.json"] = "what the ERP has";
  const auto result = rig.resend();
  CHECK_FALSE(result.written);
  CHECK(rig.dropzone.files.at("/in/sales_order_a.json") == "what the ERP has");
  CHECK(rig.history.resent.empty());
}

TEST_CASE("resend writes the marker and checksum files its connection asks for", "[resend]") {
  ResendRig rig;
  rig.history.stored.config["done_file"] = true;
  rig.history.stored.config["checksum_file"] = true;
  // The ERP took the file and its marker away but left the checksum.
  rig.dropzone.files["/in/sales_order_a.json.sha256"] = "kept";
  CHECK(rig.resend().written);
  CHECK(rig.dropzone.files.at("/in/sales_order_a.json") == kBytes);
  CHECK(rig.dropzone.files.at("/in/sales_order_a.json.sha256") == "kept");
  CHECK(rig.dropzone.files.at("/in/sales_order_a.json.done").empty());
  CHECK(rig.dropzone.writes == 3);
}

TEST_CASE("resend refuses other states, a missing copy and a copy that is not what was sent",
          "[resend]") {
  for (const auto status : {ExportStatus::pending, ExportStatus::failed}) {
    ResendRig rig;
    rig.history.record.status = status;
    CHECK(rig.refusal() == FailureKind::refused);
    CHECK(rig.dropzone.writes == 0);
  }
  ResendRig no_key;
  no_key.history.record.archive_key.reset();
  CHECK(no_key.refusal() == FailureKind::refused);
  CHECK(no_key.refusal(false) == FailureKind::refused);  // no key: the archive is not asked

  ResendRig gone;
  gone.archive.copies.clear();
  CHECK(gone.refusal() == FailureKind::refused);

  ResendRig tampered;
  tampered.archive.copies.begin()->second = "{\"order\":2}\n";
  try {
    tampered.resend();
    FAIL("resent a copy that does not match its sha256");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::refused);
    CHECK_THAT(e.what(), Catch::Contains("does not match its recorded sha256"));
  }

  ResendRig inactive;
  inactive.history.stored.active = false;
  CHECK(inactive.refusal() == FailureKind::refused);

  for (auto* rig : {&gone, &tampered, &inactive}) {
    CHECK(rig->dropzone.writes == 0);
    CHECK(rig->history.resent.empty());
  }
}

TEST_CASE("resend without a configured archive, with bad ids or an unknown export is bad input",
          "[resend]") {
  ResendRig rig;
  try {
    rig.resend(kActor, false);
    FAIL("resent without an archive");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::bad_config);
    CHECK_THAT(e.what(), Catch::Contains("[archive] mode"));
  }
  CHECK(kind_of([&] { rig.resend("not-a-uuid"); }) == FailureKind::bad_config);
  CHECK(kind_of([&] {
          resend_export(rig.history, &rig.archive, rig.dropzones, {"x", std::nullopt});
        }) == FailureKind::bad_config);
  CHECK(kind_of([&] {
          resend_export(rig.history, &rig.archive, rig.dropzones,
                        {"aaaaaaaa-0000-0000-0000-00000000ffff", std::nullopt});
        }) == FailureKind::bad_config);
  CHECK(rig.dropzone.writes == 0);
}

TEST_CASE("a dropzone failure keeps its kind and records nothing", "[resend]") {
  ResendRig rig;
  rig.dropzone.write_failure = FailureKind::unavailable;
  CHECK(rig.refusal() == FailureKind::unavailable);
  CHECK(rig.history.resent.empty());
}

TEST_CASE("show renders every part of an export's story in a stable order", "[show]") {
  ResendFakeHistory history;
  history.record.error_json = {{"code", "ERP_REJECTED"}};
  history.ack_files.push_back({"error_sales_order_a.json", "REJECTED", std::nullopt, "processed",
                               "2026-11-23T10:00:02.000Z", 40, "ff"});
  history.audit.push_back({"2026-11-23T10:00:00.000Z",
                           "DRAFT_PUSH_REQUESTED",
                           "draft_order",
                           history.record.draft_id,
                           kActor,
                           {{"export_id", kExportId}}});
  history.audit.push_back({"2026-11-23T10:00:03.000Z",
                           "EXPORT_REJECTED",
                           "erp_export",
                           kExportId,
                           std::nullopt,
                           {{"code", "ERP_REJECTED"}}});
  const auto story = show_export(history, kExportId);
  const auto json = export_story_json(story);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) {
    keys.push_back(key);
  }
  CHECK(keys == std::vector<std::string>{
                    "export_id", "org_id",      "org",          "connection_id", "draft_id",
                    "status",    "attempts",    "file_name",    "dropzone_path", "sha256",
                    "byte_size", "archive_key", "erp_order_id", "created_at",    "first_attempt_at",
                    "sent_at",   "acked_at",    "error_json",   "failures",      "ack_files",
                    "audit"});
  CHECK(json["org"] == "acme");
  CHECK(json["status"] == "SENT");
  CHECK(json["dropzone_path"].is_null());
  CHECK(json["error_json"]["code"] == "ERP_REJECTED");
  REQUIRE(json["failures"].size() == 1);
  CHECK(json["failures"][0]["action"] == "EXPORT_REJECTED");
  CHECK(json["ack_files"][0]["verdict"] == "REJECTED");
  CHECK(json["audit"].size() == 2);
  CHECK(json["audit"][0]["actor"] == kActor);
  CHECK(json["audit"][1]["actor"].is_null());

  const auto text = export_story_text(story);
  CHECK_THAT(text, Catch::StartsWith("export " + kExportId + "\n"));
  CHECK_THAT(text, Catch::Contains("  archive key     acme/2026/11/23/sales_order_a.json\n"));
  CHECK_THAT(text, Catch::Contains("failures:\n  2026-11-23T10:00:03.000Z  EXPORT_REJECTED"));
  CHECK_THAT(text, Catch::Contains("error_sales_order_a.json  REJECTED, processed"));
  CHECK_THAT(text, Catch::Contains("DRAFT_PUSH_REQUESTED on draft_order " +
                                   history.record.draft_id + " by " + kActor));
  CHECK(text.find("DRAFT_PUSH_REQUESTED") < text.rfind("EXPORT_REJECTED"));
}

TEST_CASE("show refuses a malformed id and names an unknown export", "[show]") {
  ResendFakeHistory history;
  CHECK(kind_of([&] { show_export(history, "12"); }) == FailureKind::bad_config);
  try {
    show_export(history, "aaaaaaaa-0000-0000-0000-00000000ffff");
    FAIL("showed an unknown export");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::bad_config);
    CHECK(std::string(e.what()) == "there is no export 'aaaaaaaa-0000-0000-0000-00000000ffff'");
  }
}
