// Connection secrets (SecretBox), the per-worker dropzone cache and the
// `connection set` rules, with fakes for the store and remote dropzones.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/connection_admin.h"
#include "app/dropzone_cache.h"
#include "app/secret_box.h"
#include "domain/connection_settings.h"
#include "domain/failure.h"
#include "tests/fakes/fake_export_queue.h"
#include "tests/support/failure_kind.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

std::array<unsigned char, SecretBox::kKeyBytes> key_of(unsigned char fill) {
  std::array<unsigned char, SecretBox::kKeyBytes> key{};
  key.fill(fill);
  return key;
}

class FakeConnectionStore : public ConnectionStore {
 public:
  StoredConnection save(const std::string& org_slug, const nlohmann::json& config,
                        const std::optional<std::string>& sealed_secret) override {
    if (org_slug != "acme") {
      throw Failure(FailureKind::bad_config, "there is no org with slug '" + org_slug + "'");
    }
    stored.config = config;
    if (sealed_secret) {
      stored.sealed_secret = *sealed_secret;
    }
    return stored;
  }
  StoredConnection load(const std::string&) override { return stored; }
  void record_test(const std::string&, bool success) override { last_test = success; }

  StoredConnection stored{"conn-1", {}, "", true};
  std::optional<bool> last_test;
};

const std::string kSftp =
    R"({"mode":"sftp","host":"erp.example","username":"u","auth":"password",)"
    R"("host_key_sha256":"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",)"
    R"("export_path":"/in","ack_path":"/out"})";

}  // namespace

TEST_CASE("sealed secrets open only with their key and never contain the plain text", "[secrets]") {
  SecretBox box(key_of(7));
  const auto sealed = box.seal("hunter2");
  CHECK(sealed.find("hunter2") == std::string::npos);
  CHECK(box.seal("hunter2") != sealed);  // fresh nonce each time
  CHECK(box.open(sealed) == "hunter2");

  SecretBox other(key_of(8));
  CHECK(kind_of([&] { other.open(sealed); }) == FailureKind::permanent);
  auto tampered = sealed;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  CHECK(kind_of([&] { box.open(tampered); }) == FailureKind::permanent);
  CHECK(kind_of([&] { box.open("short"); }) == FailureKind::permanent);
}

TEST_CASE("key files hold 32 raw bytes or 64 hex digits; systemd's credential wins", "[secrets]") {
  const auto dir = make_temp_dir("exportd-keys");
  std::ofstream(dir + "/raw", std::ios::binary) << std::string(32, '\x07');
  std::ofstream(dir + "/hex") << std::string(64, 'a') << "\n";
  std::ofstream(dir + "/bad") << "too short\n";
  const auto sealed = SecretBox(key_of(7)).seal("x");
  CHECK(SecretBox::from_key_file(dir + "/raw")->open(sealed) == "x");
  CHECK(SecretBox::from_key_file(dir + "/hex")->open(SecretBox(key_of(0xaa)).seal("y")) == "y");
  CHECK(kind_of([&] { SecretBox::from_key_file(dir + "/bad"); }) == FailureKind::bad_config);
  CHECK(kind_of([&] { SecretBox::from_key_file(dir + "/missing"); }) == FailureKind::bad_config);

  ::unsetenv("CREDENTIALS_DIRECTORY");
  CHECK(secret_key_path("/etc/orderflow-exportd/secret.key") ==
        "/etc/orderflow-exportd/secret.key");
  fs::copy_file(dir + "/raw", dir + "/secret.key");
  ::setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
  CHECK(secret_key_path("/etc/orderflow-exportd/secret.key") == dir + "/secret.key");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  fs::remove_all(dir);
}

TEST_CASE("one secret opener serves every worker thread; a missing key is transient", "[secrets]") {
  const auto dir = make_temp_dir("exportd-keys");
  const auto key_file = dir + "/secret.key";
  const auto sealed = SecretBox(key_of(7)).seal("hunter2");
  const SecretOpener open = secret_opener_on_first_use(key_file);
  CHECK(kind_of([&] { open(sealed); }) == FailureKind::transient);

  std::ofstream(key_file, std::ios::binary) << std::string(32, '\x07');
  // Every worker may open its first secret at the same moment: the key is
  // read once, and ThreadSanitizer sees any unguarded access.
  std::vector<std::string> opened(8);
  {
    std::vector<std::jthread> workers;
    for (auto& result : opened) {
      workers.emplace_back([&open, &sealed, &result] { result = open(sealed); });
    }
  }
  CHECK(opened == std::vector<std::string>(8, "hunter2"));
  fs::remove_all(dir);
}

TEST_CASE("the dropzone cache keeps one session per worker and connection", "[secrets]") {
  FakeDropzone filesystem;
  std::vector<ConnectionSettings> built;
  SecretBox box(key_of(1));
  DropzoneCache cache(
      filesystem,
      [&](const ConnectionSettings& settings) {
        built.push_back(settings);
        return std::make_unique<FakeDropzone>();
      },
      [&](const std::string& sealed) { return box.open(sealed); }, 2);

  ConnectionSettings fs_settings;
  CHECK(&cache.get(0, "c-fs", fs_settings, "") == &filesystem);

  auto sftp = parse_connection_settings(nlohmann::json::parse(kSftp));
  const auto sealed = box.seal(secret_payload(sftp, "pw1"));
  Dropzone& first = cache.get(0, "c1", sftp, sealed);
  CHECK(&cache.get(0, "c1", sftp, sealed) == &first);  // reused
  CHECK(&cache.get(1, "c1", sftp, sealed) != &first);  // the other worker's own
  REQUIRE(built.size() == 2);
  CHECK(built[0].password == "pw1");

  const auto resealed = box.seal(secret_payload(sftp, "pw2"));
  cache.get(0, "c1", sftp, resealed);  // a new secret: a new session
  REQUIRE(built.size() == 3);
  CHECK(built[2].password == "pw2");
  sftp.port = 2222;
  cache.get(0, "c1", sftp, resealed);  // new settings: a new session
  CHECK(built.size() == 4);
}

TEST_CASE("connection set validates, seals the secret and explains refusals", "[secrets]") {
  FakeConnectionStore store;
  SecretBox box(key_of(3));
  int key_reads = 0;
  const auto key = [&]() -> const SecretBox& {
    ++key_reads;
    return box;
  };
  const std::vector<std::string> roots{"/var/lib/orderflow/dropzone"};

  const auto summary = set_connection(store, {"acme", kSftp, "acme.json", "s3cret"}, roots, key);
  CHECK(summary == "stored the sftp connection of 'acme' (password encrypted)");
  CHECK(summary.find("s3cret") == std::string::npos);
  CHECK(box.open(store.stored.sealed_secret) == R"({"password":"s3cret"})");

  // Without a new secret the stored one is kept, and no key is needed.
  key_reads = 0;
  set_connection(store, {"acme", kSftp, "acme.json", std::nullopt}, roots, key);
  CHECK(key_reads == 0);
  CHECK(box.open(store.stored.sealed_secret) == R"({"password":"s3cret"})");

  const auto bad = [&](const std::string& json, std::optional<std::string> secret = {}) {
    return kind_of([&] { set_connection(store, {"acme", json, "f.json", secret}, roots, key); });
  };
  CHECK(bad("{not json") == FailureKind::bad_config);
  CHECK(bad(R"({"mode":"sftp"})") == FailureKind::bad_config);
  CHECK(bad(R"({"mode":"filesystem","export_path":"/etc/x","ack_path":"/etc/y"})") ==
        FailureKind::bad_config);
  CHECK(bad(kSftp, "") == FailureKind::bad_config);
  CHECK(kind_of([&] {
          set_connection(store, {"nope", kSftp, "f.json", std::nullopt}, roots, key);
        }) == FailureKind::bad_config);

  FakeConnectionStore empty;
  CHECK(kind_of([&] {
          set_connection(empty, {"acme", kSftp, "f.json", std::nullopt}, roots, key);
        }) == FailureKind::bad_config);
}

TEST_CASE("connection test probes the dropzone and records the outcome", "[secrets]") {
  FakeConnectionStore store;
  store.stored.config = {
      {"mode", "filesystem"}, {"export_path", "/drop/in"}, {"ack_path", "/drop/acks"}};
  FakeDropzone filesystem;
  filesystem.files["/drop/acks/ack_1.json"] = "{}";
  DropzoneCache cache(
      filesystem, [](const ConnectionSettings&) { return std::unique_ptr<Dropzone>(); },
      [](const std::string& s) { return s; }, 1);
  auto report = test_connection(store, "acme", cache);
  CHECK(report.success);
  CHECK(store.last_test == true);
  CHECK(filesystem.writes == 1);
  CHECK(filesystem.files.size() == 1);  // the probe is gone again
  CHECK(report.steps.back() == "listed '/drop/acks': 1 file(s)");

  filesystem.write_failure = FailureKind::permanent;
  report = test_connection(store, "acme", cache);
  CHECK_FALSE(report.success);
  CHECK(report.error == "injected write failure");
  CHECK(store.last_test == false);
}
