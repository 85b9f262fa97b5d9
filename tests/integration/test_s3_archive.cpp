// The S3 archive against a real S3-compatible server (s3rver) started on a
// free loopback port.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "adapters/s3/s3_archive.h"
#include "domain/failure.h"
#include "tests/support/failure_kind.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"

using namespace exportd;
using namespace exportd::testing;

namespace {

constexpr const char* kSha = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

S3Server& s3_server() {
  static S3Server server;
  return server;
}

S3ArchiveSettings s3_settings() {
  return {.endpoint = s3_server().endpoint(),
          .bucket = s3_server().bucket(),
          .region = "eu-central-1",
          .prefix = "exports/",
          .access_key_id = S3Server::kAccessKeyId,
          .secret_key = S3Server::kSecretKey,
          .timeout = std::chrono::seconds(5)};
}

std::string every_byte() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes.push_back(static_cast<char>(i));
  }
  return bytes;
}

std::string failure_text(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Failure& e) {
    return e.what();
  }
  FAIL("no Failure thrown");
  return "";
}

}  // namespace

TEST_CASE("the S3 archive keeps the exact bytes under prefix and name", "[s3]") {
  S3Archive archive(s3_settings());
  const std::string bytes = GENERATE(std::string("{\"a\":1}\n"), every_byte(),
                                     std::string(size_t{1024} * 1024, 'x') + every_byte());
  const std::string location = archive.put("acme/2026/11/23/a.json", bytes, kSha);
  CHECK(location == "exports/acme/2026/11/23/a.json");
  const auto back = archive.get(location);
  REQUIRE(back);
  CHECK(back->size() == bytes.size());
  CHECK(*back == bytes);
  CHECK(slurp(s3_server().object_file(location)) == bytes);
}

TEST_CASE("the S3 archive stores the sha256 as object metadata", "[s3]") {
  S3Archive archive(s3_settings());
  const std::string location = archive.put("acme/2026/11/23/meta.json", "{}\n", kSha);
  const auto metadata = nlohmann::json::parse(slurp(s3_server().metadata_file(location)));
  CHECK(metadata.at("x-amz-meta-sha256") == kSha);
}

TEST_CASE("the S3 archive replaces a copy already there", "[s3]") {
  S3Archive archive(s3_settings());
  archive.put("acme/2026/11/23/again.json", "first", kSha);
  const std::string location = archive.put("acme/2026/11/23/again.json", "second", kSha);
  CHECK(archive.get(location) == "second");
}

TEST_CASE("a missing S3 object is nullopt and removing it is no error", "[s3]") {
  S3Archive archive(s3_settings());
  CHECK_FALSE(archive.get("exports/acme/2026/11/23/never.json"));
  CHECK_NOTHROW(archive.remove("exports/acme/2026/11/23/never.json"));

  const std::string location = archive.put("acme/2026/11/23/gone.json", "bytes", kSha);
  archive.remove(location);
  CHECK_FALSE(archive.get(location));
  CHECK_FALSE(std::filesystem::exists(s3_server().object_file(location)));
}

TEST_CASE("an unreachable S3 endpoint is transient within the timeout", "[s3]") {
  auto settings = s3_settings();
  settings.endpoint =
      std::string("http://127.0.0.1:").append(std::to_string(free_port()));  // nothing listens
  settings.timeout = std::chrono::seconds(2);
  S3Archive archive(settings);
  const auto started = std::chrono::steady_clock::now();
  CHECK(kind_of([&] { archive.put("acme/2026/11/23/a.json", "x", kSha); }) ==
        FailureKind::transient);
  CHECK(kind_of([&] { archive.get("exports/a.json"); }) == FailureKind::transient);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}

TEST_CASE("a bucket that does not exist is bad configuration", "[s3]") {
  auto settings = s3_settings();
  settings.bucket = "no-such-bucket";
  S3Archive archive(settings);
  const std::string text = failure_text([&] { archive.put("acme/2026/11/23/a.json", "x", kSha); });
  CHECK_THAT(text, Catch::Contains("'no-such-bucket'") && Catch::Contains("NoSuchBucket"));
  CHECK(kind_of([&] { archive.put("acme/2026/11/23/a.json", "x", kSha); }) ==
        FailureKind::bad_config);
  CHECK(kind_of([&] { archive.get("exports/a.json"); }) == FailureKind::bad_config);
  CHECK(kind_of([&] { archive.remove("exports/a.json"); }) == FailureKind::bad_config);
}

TEST_CASE("the S3 secret key appears in no failure", "[s3]") {
  const std::string secret = "sEcReT-7f3a9c-never-shown";
  auto settings = s3_settings();
  settings.secret_key = secret;
  settings.bucket = "no-such-bucket";
  S3Archive refused(settings);
  settings.endpoint = std::string("http://127.0.0.1:").append(std::to_string(free_port()));
  S3Archive unreachable(settings);
  for (Archive* archive : {static_cast<Archive*>(&refused), static_cast<Archive*>(&unreachable)}) {
    CHECK_THAT(failure_text([&] { archive->put("acme/a.json", "x", kSha); }),
               !Catch::Contains(secret));
    CHECK_THAT(failure_text([&] { archive->get("exports/acme/a.json"); }),
               !Catch::Contains(secret));
  }
}
