// The filesystem dropzone on a real temp directory, with system-call faults
// injected through PosixIo.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "adapters/filesystem/filesystem_dropzone.h"
#include "adapters/temp_files.h"
#include "domain/failure.h"
#include "tests/support/failure_kind.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

struct TempRoot {
  std::string path = exportd::testing::make_temp_dir("exportd-fs");
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Fails one chosen call with one errno, once or always.
class FaultyIo : public PosixIo {
 public:
  enum class Call { none, write, fsync, open_file, rename, close };
  Call fail_call = Call::none;
  int fail_errno = 0;
  int failures_left = 1000;

  bool trip(Call call) {
    if (call == fail_call && failures_left > 0) {
      --failures_left;
      errno = fail_errno;
      return true;
    }
    return false;
  }
  int openat(int dirfd, const char* path, int flags, mode_t mode) override {
    if ((flags & O_CREAT) == 0) {
      return PosixIo::openat(dirfd, path, flags, mode);
    }
    if (trip(Call::open_file)) {
      return -1;
    }
    created_fd_ = PosixIo::openat(dirfd, path, flags, mode);
    return created_fd_;
  }
  ssize_t write(int fd, const void* buf, size_t count) override {
    return trip(Call::write) ? -1 : PosixIo::write(fd, buf, count);
  }
  int fsync(int fd) override { return trip(Call::fsync) ? -1 : PosixIo::fsync(fd); }
  // The created file's close reports a late error; the descriptor is closed anyway.
  int close(int fd) override {
    const int result = PosixIo::close(fd);
    return fd == created_fd_ && trip(Call::close) ? -1 : result;
  }

 private:
  int created_fd_ = -1;
  int renameat_noreplace(int from_dirfd, const char* from, int to_dirfd, const char* to) override {
    return trip(Call::rename) ? -1 : PosixIo::renameat_noreplace(from_dirfd, from, to_dirfd, to);
  }
};

}  // namespace

TEST_CASE("a write leaves exactly the final file with the exact bytes", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dropzone({root.path});
  const auto result = dropzone.write_file(root.path + "/acme/exports", "a.json", "{\"x\":1}\n",
                                          {.atomic = true, .sync = true});
  dropzone.sync_directory(root.path + "/acme/exports");
  CHECK_FALSE(result.already_present);
  CHECK(result.path == root.path + "/acme/exports/a.json");
  CHECK(slurp(result.path) == "{\"x\":1}\n");
  CHECK(names_in(root.path + "/acme/exports") == std::vector<std::string>{"a.json"});
}

TEST_CASE("an existing final name means an earlier attempt delivered it", "[filesystem]") {
  TempRoot root;
  std::ofstream(root.path + "/a.json") << "first";
  FilesystemDropzone dropzone({root.path});
  const auto result = dropzone.write_file(root.path, "a.json", "second", {});
  CHECK(result.already_present);
  CHECK(slurp(root.path + "/a.json") == "first");
  CHECK(names_in(root.path) == std::vector<std::string>{"a.json"});
}

TEST_CASE("paths outside the roots, with '..' or through a symlink are refused", "[filesystem]") {
  TempRoot root, outside;
  FilesystemDropzone dropzone({root.path + "/drop"});
  fs::create_directories(root.path + "/drop");
  CHECK(kind_of([&] { dropzone.write_file(outside.path, "a.json", "x", {}); }) ==
        FailureKind::permanent);
  CHECK(kind_of([&] { dropzone.write_file(root.path + "/drop/../x", "a.json", "x", {}); }) ==
        FailureKind::permanent);
  CHECK(kind_of([&] { dropzone.write_file(root.path + "/dropper", "a.json", "x", {}); }) ==
        FailureKind::permanent);  // a prefix of the root's name is not inside it
  fs::create_directory_symlink(outside.path, root.path + "/drop/link");
  CHECK(kind_of([&] { dropzone.write_file(root.path + "/drop/link", "a.json", "x", {}); }) ==
        FailureKind::permanent);
  CHECK(kind_of([&] { dropzone.write_file(root.path + "/drop", "../a.json", "x", {}); }) ==
        FailureKind::permanent);
  CHECK(fs::is_empty(outside.path));
}

TEST_CASE("missing directories below a root are created; a missing root is unavailable",
          "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dropzone({root.path + "/not-mounted"});
  CHECK(kind_of([&] { dropzone.write_file(root.path + "/not-mounted/x", "a.json", "x", {}); }) ==
        FailureKind::unavailable);
  CHECK_FALSE(fs::exists(root.path + "/not-mounted"));
  FilesystemDropzone ok({root.path});
  ok.write_file(root.path + "/a/b/c", "a.json", "x", {});
  CHECK(fs::exists(root.path + "/a/b/c/a.json"));
}

TEST_CASE("stale temp files are swept on the first write; live ones are kept", "[filesystem]") {
  TempRoot root;
  // This host's tag, which every temp token of this process carries.
  const std::string token = new_temp_token();
  const std::string host = token.substr(0, token.find('-'));
  // A writer on this host that has exited: a child, reaped.
  const pid_t dead_pid = ::fork();
  if (dead_pid == 0) {
    ::_exit(0);
  }
  REQUIRE(dead_pid > 0);
  REQUIRE(::waitpid(dead_pid, nullptr, 0) == dead_pid);
  const std::string dead = ".x.json." + host + "-" + std::to_string(dead_pid) + "-deadbeef.tmp";
  // A writer on this host that still runs: may be mid-write.
  Process live({.argv = {"sleep", "30"}});
  const std::string alive = ".w.json." + host + "-" + std::to_string(live.pid()) + "-0badf00d.tmp";
  // A temp file from another host, hours old.
  const std::string old_foreign = ".y.json.otherhost-1-cafebabe.tmp";
  // A fresh temp file from another host: may be mid-write.
  const std::string fresh_foreign = ".z.json.otherhost-1-feedf00d.tmp";
  for (const auto& name : {dead, alive, old_foreign, fresh_foreign}) {
    std::ofstream(root.path + "/" + name) << "partial";
  }
  const timespec hours_ago[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
  ::utimensat(AT_FDCWD, (root.path + "/" + old_foreign).c_str(), hours_ago, 0);

  FilesystemDropzone dropzone({root.path});
  dropzone.write_file(root.path, "a.json", "x", {});
  CHECK(names_in(root.path) == std::vector<std::string>{alive, fresh_foreign, "a.json"});
}

TEST_CASE("atomic_write false writes the final name directly", "[filesystem]") {
  TempRoot root;
  FaultyIo io;
  io.fail_call = FaultyIo::Call::rename;  // must not be called at all
  io.fail_errno = EIO;
  FilesystemDropzone dropzone({root.path}, io);
  dropzone.write_file(root.path, "a.json", "direct", {.atomic = false, .sync = true});
  CHECK(slurp(root.path + "/a.json") == "direct");
  CHECK(io.failures_left == 1000);
}

TEST_CASE("a direct write that completed is never removed, even when close fails", "[filesystem]") {
  TempRoot root;
  FaultyIo io;
  FilesystemDropzone dropzone({root.path}, io);
  io.fail_call = FaultyIo::Call::close;
  io.fail_errno = EIO;
  io.failures_left = 1;  // after the bytes and the fsync are through
  CHECK(kind_of([&] {
          dropzone.write_file(root.path, "a.json", "direct", {.atomic = false, .sync = true});
        }) == FailureKind::transient);
  CHECK(slurp(root.path + "/a.json") == "direct");
  // The next attempt finds it delivered.
  CHECK(dropzone.write_file(root.path, "a.json", "direct", {.atomic = false}).already_present);

  // An incomplete one is removed at once: it must not pass for a delivery.
  io.fail_call = FaultyIo::Call::write;
  io.fail_errno = ENOSPC;
  io.failures_left = 1;
  CHECK(kind_of([&] { dropzone.write_file(root.path, "b.json", "direct", {.atomic = false}); }) ==
        FailureKind::transient);
  CHECK(names_in(root.path) == std::vector<std::string>{"a.json"});
}

TEST_CASE("injected faults are classified and leave no temp or final file", "[filesystem]") {
  struct Case {
    FaultyIo::Call call;
    int err;
    FailureKind expected;
  };
  const Case cases[] = {
      {FaultyIo::Call::write, ENOSPC, FailureKind::transient},
      {FaultyIo::Call::write, EDQUOT, FailureKind::transient},
      {FaultyIo::Call::fsync, EIO, FailureKind::transient},
      // Fixed by an operator without touching the export: the connection waits.
      {FaultyIo::Call::open_file, EACCES, FailureKind::unavailable},
      {FaultyIo::Call::open_file, EPERM, FailureKind::unavailable},
      {FaultyIo::Call::open_file, EROFS, FailureKind::unavailable},
      {FaultyIo::Call::write, EROFS, FailureKind::unavailable},
      {FaultyIo::Call::rename, EROFS, FailureKind::unavailable},
      {FaultyIo::Call::rename, EACCES, FailureKind::unavailable},
  };
  for (const auto& c : cases) {
    TempRoot root;
    FaultyIo io;
    io.fail_call = c.call;
    io.fail_errno = c.err;
    FilesystemDropzone dropzone({root.path}, io);
    INFO("errno " << c.err);
    CHECK(kind_of([&] { dropzone.write_file(root.path, "a.json", "bytes", {}); }) == c.expected);
    CHECK(fs::is_empty(root.path));
  }
}

TEST_CASE("EINTR from write is retried and the file is complete", "[filesystem]") {
  TempRoot root;
  FaultyIo io;
  io.fail_call = FaultyIo::Call::write;
  io.fail_errno = EINTR;
  io.failures_left = 1;
  FilesystemDropzone dropzone({root.path}, io);
  dropzone.write_file(root.path, "a.json", "complete", {});
  CHECK(slurp(root.path + "/a.json") == "complete");
  CHECK(names_in(root.path) == std::vector<std::string>{"a.json"});
}

TEST_CASE("a directory fsync failure is reported", "[filesystem]") {
  TempRoot root;
  FaultyIo io;
  io.fail_call = FaultyIo::Call::fsync;
  io.fail_errno = EIO;
  FilesystemDropzone dropzone({root.path}, io);
  CHECK(kind_of([&] { dropzone.sync_directory(root.path); }) == FailureKind::transient);
}

TEST_CASE("listing shows regular files only, never what a symlink points at", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dz({root.path});
  const std::string acks = root.path + "/acks";
  dz.make_directory(acks);
  dz.make_directory(acks);  // an existing directory is fine
  std::ofstream(acks + "/ack_a.json") << "{}";
  std::ofstream(acks + "/.hidden") << "x";
  fs::create_directory(acks + "/sub");
  fs::create_symlink("/etc/passwd", acks + "/ack_link.json");
  REQUIRE(::mkfifo((acks + "/ack_fifo.json").c_str(), 0600) == 0);

  std::vector<std::string> listed;
  for (const auto& entry : dz.list_files(acks)) {
    listed.push_back(entry.name);
  }
  std::sort(listed.begin(), listed.end());
  CHECK(listed == std::vector<std::string>{".hidden", "ack_a.json"});
  CHECK(kind_of([&] { dz.read_file(acks, "ack_link.json", 100); }) == FailureKind::permanent);
  CHECK(kind_of([&] { dz.read_file(acks, "ack_fifo.json", 100); }) == FailureKind::permanent);
  CHECK(kind_of([&] { dz.list_files("/etc"); }) == FailureKind::permanent);
}

TEST_CASE("reads stop at the size cap", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dz({root.path});
  std::ofstream(root.path + "/small.json") << "12345";
  CHECK(dz.read_file(root.path, "small.json", 5) == std::optional<std::string>("12345"));
  CHECK_FALSE(dz.read_file(root.path, "small.json", 4).has_value());
  CHECK(kind_of([&] { dz.read_file(root.path, "../x", 4); }) == FailureKind::permanent);
  CHECK(kind_of([&] { dz.read_file(root.path, "missing.json", 4); }) == FailureKind::transient);
}

TEST_CASE("moves never replace a file; removes are idempotent", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dz({root.path});
  const std::string processed = root.path + "/processed";
  dz.make_directory(processed);
  std::ofstream(root.path + "/ack_a.json") << "first";
  std::ofstream(processed + "/ack_a.json") << "earlier";

  CHECK_FALSE(dz.move_file(root.path, "ack_a.json", processed, "ack_a.json"));
  CHECK(slurp(processed + "/ack_a.json") == "earlier");
  CHECK(dz.move_file(root.path, "ack_a.json", processed, "ack_a.2.json"));
  CHECK(slurp(processed + "/ack_a.2.json") == "first");
  CHECK_FALSE(fs::exists(root.path + "/ack_a.json"));

  dz.remove_file(processed, "ack_a.2.json");
  dz.remove_file(processed, "ack_a.2.json");
  CHECK(names_in(processed) == std::vector<std::string>{"ack_a.json"});
}

TEST_CASE("a plain file on the way is named as such, a symlink as a symlink", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dz({root.path});
  std::ofstream(root.path + "/plain") << "x";
  fs::create_directory(root.path + "/real");
  fs::create_directory_symlink(root.path + "/real", root.path + "/link");
  const auto message_of = [&](const std::string& directory) {
    try {
      dz.list_files(directory);
    } catch (const Failure& e) {
      CHECK(e.kind() == FailureKind::permanent);
      return std::string(e.what());
    }
    FAIL("listed " << directory);
    return std::string();
  };
  const auto plain = message_of(root.path + "/plain");
  CHECK_THAT(plain, Catch::Contains("'" + root.path + "/plain': it is not a directory"));
  CHECK_THAT(plain, !Catch::Contains("symlink"));
  CHECK_THAT(message_of(root.path + "/plain/acks"), Catch::Contains("is not a directory"));
  CHECK_THAT(
      message_of(root.path + "/link"),
      Catch::Contains("'" + root.path + "/link': it is a symlink (symlinks are not followed)"));
}

TEST_CASE("day folders are listed and removed without following symlinks", "[filesystem]") {
  TempRoot root;
  FilesystemDropzone dz({root.path});
  const std::string processed = root.path + "/acks/processed";
  const std::string outside = root.path + "/outside";
  fs::create_directories(processed + "/2026-10-01");
  fs::create_directories(processed + "/2026-10-02/nested");
  fs::create_directories(outside);
  std::ofstream(processed + "/2026-10-01/ack_a.json") << "a";
  std::ofstream(processed + "/2026-10-01/ack_b.json") << "b";
  std::ofstream(processed + "/2026-10-02/ack_c.json") << "c";
  std::ofstream(processed + "/loose.json") << "not a folder";
  std::ofstream(outside + "/keep.json") << "keep";
  fs::create_directory_symlink(outside, processed + "/2026-09-30");
  fs::create_symlink(outside + "/keep.json", processed + "/2026-10-01/ack_link.json");

  // Folders only: no file, no symlink; a missing directory lists as empty
  // and is not created.
  auto folders = dz.list_directories(processed);
  std::sort(folders.begin(), folders.end());
  CHECK(folders == std::vector<std::string>{"2026-10-01", "2026-10-02"});
  CHECK(dz.list_directories(root.path + "/acks/error").empty());
  CHECK_FALSE(fs::exists(root.path + "/acks/error"));

  // Regular files go; a symlink inside is left, and so is its folder.
  try {
    dz.remove_directory(processed + "/2026-10-01");
    FAIL("removed a folder holding a symlink");
  } catch (const Failure& e) {
    CHECK(e.kind() == FailureKind::permanent);
    CHECK_THAT(e.what(), Catch::Contains("holds more than regular files"));
  }
  CHECK(names_in(processed + "/2026-10-01") == std::vector<std::string>{"ack_link.json"});
  CHECK(slurp(outside + "/keep.json") == "keep");
  fs::remove(processed + "/2026-10-01/ack_link.json");
  CHECK(dz.remove_directory(processed + "/2026-10-01") == 0);
  CHECK_FALSE(fs::exists(processed + "/2026-10-01"));
  CHECK(dz.remove_directory(processed + "/2026-10-01") == 0);  // gone already

  // A symlinked folder is refused, its target untouched.
  CHECK(kind_of([&] { dz.remove_directory(processed + "/2026-09-30"); }) == FailureKind::permanent);
  CHECK(names_in(outside) == std::vector<std::string>{"keep.json"});
  // A folder holding a folder keeps it; a root is never removed.
  CHECK(kind_of([&] { dz.remove_directory(processed + "/2026-10-02"); }) == FailureKind::permanent);
  CHECK(fs::exists(processed + "/2026-10-02/nested"));
  CHECK(kind_of([&] { dz.remove_directory(root.path); }) == FailureKind::permanent);
  CHECK(fs::exists(processed));

  fs::remove(processed + "/2026-10-02/nested");
  std::ofstream(processed + "/2026-10-02/ack_d.json") << "d";
  CHECK(dz.remove_directory(processed + "/2026-10-02") == 1);
  CHECK(names_in(processed) == std::vector<std::string>{"2026-09-30", "loose.json"});
}
