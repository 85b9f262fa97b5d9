// The directory archive on a real temp directory: exact bytes, mode 0440,
// replaced copies, missing copies, refused locations, and how failures of
// the filesystem are classified.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>

#include "adapters/filesystem/directory_archive.h"
#include "domain/failure.h"
#include "tests/support/failure_kind.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/tmpfs.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

struct ArchiveDir {
  std::string path = make_temp_dir("exportd-archive");
  ~ArchiveDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const std::string kName = "acme/2026/11/23/sales_order_a.json";

}  // namespace

TEST_CASE("put writes the exact bytes as {root}/{name}, mode 0440, parents created", "[archive]") {
  ArchiveDir root;
  DirectoryArchive archive(root.path);
  const std::string bytes("{\"x\":1}\n\0binary\xff", 16);
  CHECK(archive.put(kName, bytes, "ab12") == kName);
  const std::string path = root.path + "/" + kName;
  CHECK(slurp(path) == bytes);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0440);
  CHECK(names_in(root.path + "/acme/2026/11/23") ==
        std::vector<std::string>{"sales_order_a.json"});  // no temp file left
  CHECK(archive.get(kName) == bytes);
}

TEST_CASE("put replaces an earlier copy under the same name", "[archive]") {
  ArchiveDir root;
  DirectoryArchive archive(root.path);
  archive.put(kName, "first", "");
  archive.put(kName, "second", "");
  CHECK(archive.get(kName) == "second");
  CHECK(names_in(root.path + "/acme/2026/11/23").size() == 1);
}

TEST_CASE("a missing copy reads as nothing and removes quietly", "[archive]") {
  ArchiveDir root;
  DirectoryArchive archive(root.path);
  CHECK_FALSE(archive.get(kName).has_value());  // not even the directories exist
  archive.put(kName, "x", "");
  CHECK_FALSE(archive.get("acme/2026/11/23/other.json").has_value());
  archive.remove(kName);
  CHECK_FALSE(fs::exists(root.path + "/" + kName));
  CHECK_FALSE(archive.get(kName).has_value());
  archive.remove(kName);                       // gone already: fine
  archive.remove("nobody/2026/01/01/x.json");  // never there: fine
}

TEST_CASE("absolute locations, '..' and symlinks are refused", "[archive]") {
  ArchiveDir root, outside;
  std::ofstream(outside.path + "/secret.json") << "secret";
  DirectoryArchive archive(root.path + "/archive");
  fs::create_directory(root.path + "/archive");
  for (const std::string& location :
       {outside.path + "/secret.json", std::string("../secret.json"), std::string("a/../../x"),
        std::string("a/./x.json"), std::string("a//x.json"), std::string(""), std::string("a/")}) {
    INFO(location);
    CHECK(kind_of([&] { archive.get(location); }) == FailureKind::permanent);
    CHECK(kind_of([&] { archive.remove(location); }) == FailureKind::permanent);
    CHECK(kind_of([&] { archive.put(location, "x", ""); }) == FailureKind::permanent);
  }
  fs::create_directory_symlink(outside.path, root.path + "/archive/acme");
  CHECK(kind_of([&] { archive.get("acme/secret.json"); }) == FailureKind::permanent);
  CHECK(kind_of([&] { archive.put("acme/new.json", "x", ""); }) == FailureKind::permanent);
  fs::create_symlink(outside.path + "/secret.json", root.path + "/archive/link.json");
  CHECK(kind_of([&] { archive.get("link.json"); }) == FailureKind::permanent);
  archive.remove("link.json");  // the link itself goes, never what it points at
  CHECK_FALSE(fs::is_symlink(root.path + "/archive/link.json"));
  CHECK(slurp(outside.path + "/secret.json") == "secret");
  CHECK(names_in(outside.path) == std::vector<std::string>{"secret.json"});
}

TEST_CASE("a missing archive directory is a configuration error", "[archive]") {
  ArchiveDir root;
  DirectoryArchive archive(root.path + "/not-there");
  CHECK(kind_of([&] { archive.put(kName, "x", ""); }) == FailureKind::bad_config);
  CHECK(kind_of([&] { archive.get(kName); }) == FailureKind::bad_config);
  CHECK_FALSE(fs::exists(root.path + "/not-there"));
}

TEST_CASE("a read-only archive directory is unavailable and keeps what it holds", "[archive]") {
  ArchiveDir root;
  const std::string dir = root.path + "/archive";
  fs::create_directory(dir);
  // root ignores permission bits: a read-only mount it cannot.
  std::optional<Tmpfs> tmpfs;
  if (::geteuid() == 0) {
    tmpfs.emplace(dir);
    if (!tmpfs->error().empty()) {
      WARN("skipped: cannot mount a tmpfs: " << tmpfs->error());
      return;
    }
  }
  const auto set_read_only = [&](bool read_only) {
    if (tmpfs) {
      REQUIRE(tmpfs->set_read_only(read_only));
      return;
    }
    const auto perms =
        read_only ? fs::perms::owner_read | fs::perms::owner_exec : fs::perms::owner_all;
    fs::permissions(dir, perms);
    fs::permissions(dir + "/acme/2026/11/23", perms);
  };
  DirectoryArchive archive(dir);
  archive.put(kName, "kept", "");
  set_read_only(true);
  CHECK(kind_of([&] { archive.put(kName, "x", ""); }) == FailureKind::unavailable);
  CHECK(kind_of([&] { archive.put("other/2026/11/23/b.json", "x", ""); }) ==
        FailureKind::unavailable);
  CHECK(archive.get(kName) == "kept");
  set_read_only(false);
  CHECK(names_in(dir + "/acme/2026/11/23") == std::vector<std::string>{"sales_order_a.json"});
}
