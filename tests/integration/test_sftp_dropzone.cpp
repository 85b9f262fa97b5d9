// The SFTP dropzone against a real OpenSSH server (internal-sftp) started on
// a free loopback port with generated keys.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "adapters/sftp/sftp_calls.h"
#include "adapters/sftp/sftp_dropzone.h"
#include "adapters/sftp/sftp_session.h"
#include "adapters/socket_deadlines.h"
#include "adapters/temp_files.h"
#include "domain/failure.h"
#include "domain/file_name.h"
#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/sshd_server.h"

using namespace exportd;
using namespace exportd::testing;
namespace fs = std::filesystem;

namespace {

SshdServer& server() {
  return SshdServer::shared();
}

size_t open_descriptors() {
  return static_cast<size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), {}));
}

std::string failure_message(const std::function<void()>& fn, FailureKind expected) {
  try {
    fn();
  } catch (const Failure& e) {
    CHECK(to_string(e.kind()) == to_string(expected));
    return e.what();
  }
  FAIL("no Failure thrown");
  return "";
}

SftpOptions options(std::chrono::seconds timeout = std::chrono::seconds(5)) {
  return {.known_hosts_path = "/nonexistent/known_hosts", .operation_timeout = timeout};
}

}  // namespace

TEST_CASE("sftp: many files over one session, exact bytes, no temp files", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("exports");
  SftpDropzone dz(server().settings(), options(), deadlines);
  for (int i = 0; i < 50; ++i) {
    const auto name = "sales_order_" + std::to_string(i) + ".json";
    const auto result = dz.write_file(dir, name, "{\"n\":" + std::to_string(i) + "}\n", {});
    CHECK(result.path == dir + "/" + name);
    CHECK_FALSE(result.already_present);
  }
  dz.sync_directory(dir);
  CHECK(names_in(dir).size() == 50);
  CHECK(slurp(dir + "/sales_order_7.json") == "{\"n\":7}\n");
  // One established connection did all of it.
  const auto connections = run_capture(
      {.argv = {"sh", "-c",
                "ss -tnH state established '( dport = :" + std::to_string(server().port()) +
                    " )' | wc -l"}});
  CHECK(std::stoi(connections) == 1);
}

TEST_CASE("sftp: an existing final name is left alone and reported present", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("present");
  SftpDropzone dz(server().settings(), options(), deadlines);
  std::ofstream(dir + "/order.json") << "earlier";
  CHECK(dz.write_file(dir, "order.json", "later", {}).already_present);
  CHECK(slurp(dir + "/order.json") == "earlier");

  const auto direct = dz.write_file(dir, "direct.json", "x", {.atomic = false});
  CHECK_FALSE(direct.already_present);
  CHECK(dz.write_file(dir, "direct.json", "y", {.atomic = false}).already_present);
  CHECK(slurp(dir + "/direct.json") == "x");
}

TEST_CASE("sftp: a broken direct write never costs a file an attempt delivered", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("direct-kept");
  const WriteOptions direct{.atomic = false};
  SftpDropzone dz(server().settings(), options(std::chrono::seconds(1)), deadlines);
  dz.write_file(dir, "first.json", "{}", direct);  // this session has swept the directory
  // An earlier attempt delivered order.json completely; this one's session breaks.
  std::ofstream(dir + "/order.json") << "delivered";
  server().freeze();
  failure_message([&] { dz.write_file(dir, "order.json", "delivered", direct); },
                  FailureKind::transient);
  server().thaw();
  dz.write_file(dir, "second.json", "{}", direct);  // a new session
  // Another export's attempt breaks too, and another worker then delivers it.
  server().freeze();
  failure_message([&] { dz.write_file(dir, "other.json", "mine", direct); },
                  FailureKind::transient);
  server().thaw();
  SftpDropzone worker(server().settings(), options(), deadlines);
  worker.write_file(dir, "other.json", "theirs", direct);

  // The next session of the broken one removes neither.
  dz.write_file(dir, "next.json", "{}", direct);
  CHECK(slurp(dir + "/order.json") == "delivered");
  CHECK(slurp(dir + "/other.json") == "theirs");
  CHECK(names_in(dir) == std::vector<std::string>{"first.json", "next.json", "order.json",
                                                  "other.json", "second.json"});
}

TEST_CASE("sftp: missing export directories are created, abandoned temps swept", "[sftp]") {
  SocketDeadlines deadlines;
  const auto base = server().user_dir("sweep");
  const std::string dir = base + "/deep/exports";
  fs::create_directories(dir);
  run_capture({.argv = {"chown", "-R", server().user(), base}});
  // Temp files of this host: a writer that is gone (a pid that cannot exist),
  // one of ours that a broken session left, one of ours being written now.
  const auto token = new_temp_token();
  const auto host = token.substr(0, token.find('-'));
  const auto ours = host + "-" + std::to_string(::getpid());
  const auto dead = temp_file_name("a.json", host + "-4000000-abcdef01");
  const auto left = temp_file_name("b.json", ours + "-abcdef02");
  const auto writing = temp_file_name("c.json", ours + "-abcdef03");
  for (const auto& name : {dead, left, writing}) {
    std::ofstream(dir + "/" + name) << "partial";
  }
  const TempFileInProgress in_progress(writing);

  SftpDropzone dz(server().settings(), options(), deadlines);
  dz.write_file(dir, "d.json", "{}", {});
  dz.write_file(base + "/new/sub", "d.json", "{}", {});
  CHECK(names_in(dir) == std::vector<std::string>{writing, "d.json"});
  CHECK(fs::exists(base + "/new/sub/d.json"));
}

TEST_CASE("sftp: rsa keys, passphrase-protected keys and passwords authenticate", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("auth");
  auto rsa = server().settings();
  rsa.private_key_path = server().rsa_key();
  SftpDropzone(rsa, options(), deadlines).write_file(dir, "rsa.json", "{}", {});

  auto protected_key = server().settings();
  protected_key.private_key_path = server().protected_key();
  protected_key.key_passphrase = server().key_passphrase();
  SftpDropzone(protected_key, options(), deadlines).write_file(dir, "pp.json", "{}", {});

  auto password = server().settings();
  password.auth = "password";
  password.password = server().password();
  SftpDropzone(password, options(), deadlines).write_file(dir, "pw.json", "{}", {});
  CHECK(names_in(dir) == std::vector<std::string>{"pp.json", "pw.json", "rsa.json"});

  protected_key.key_passphrase = "wrong";
  const auto bad_key = failure_message(
      [&] { SftpDropzone(protected_key, options(), deadlines).connect(); }, FailureKind::permanent);
  CHECK_THAT(bad_key, Catch::Contains("cannot load private key"));

  password.password = "not-the-password";
  const auto refused = failure_message(
      [&] { SftpDropzone(password, options(), deadlines).connect(); }, FailureKind::permanent);
  CHECK_THAT(refused, Catch::Contains("authentication as 'exportd-sftp'"));
  CHECK_THAT(refused, !Catch::Contains("not-the-password"));
}

TEST_CASE("sftp: host keys are verified by pin or known_hosts, never accepted blindly", "[sftp]") {
  SocketDeadlines deadlines;
  const std::string wrong = "SHA256:u0ZL9Ok4TTpPYJm4tDZdE0A+o3cAWKDo3N4lEPKp1dI";
  auto pinned = server().settings();
  pinned.host_key_sha256 = {wrong};
  const auto message = failure_message(
      [&] { SftpDropzone(pinned, options(), deadlines).connect(); }, FailureKind::permanent);
  CHECK_THAT(message, Catch::Contains(server().host_key_sha256()));
  CHECK_THAT(message, Catch::Contains(wrong));
  // A rotating server: any one of several pins is accepted.
  pinned.host_key_sha256 = {wrong, server().host_key_sha256()};
  CHECK_NOTHROW(SftpDropzone(pinned, options(), deadlines).connect());

  // Without a pin: the daemon's known_hosts decides.
  const auto dir = make_temp_dir("exportd-known-hosts");
  const std::string known_hosts = dir + "/known_hosts";
  auto unpinned = server().settings();
  unpinned.host_key_sha256.clear();
  const SftpOptions with_known_hosts{.known_hosts_path = known_hosts,
                                     .operation_timeout = std::chrono::seconds(5)};
  const std::string host = "[127.0.0.1]:" + std::to_string(server().port());

  std::ofstream(known_hosts) << "";
  const auto unknown =
      failure_message([&] { SftpDropzone(unpinned, with_known_hosts, deadlines).connect(); },
                      FailureKind::permanent);
  CHECK_THAT(unknown, Catch::Contains(server().host_key_sha256()));
  CHECK_THAT(unknown, Catch::Contains("does not list"));

  // A different key of the same type for this host: "changed".
  const std::string other_key = dir + "/other";
  run_capture({.argv = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other_key}});
  std::ifstream other_pub(other_key + ".pub");
  std::string type, blob;
  other_pub >> type >> blob;
  std::ofstream(known_hosts) << host << " " << type << " " << blob << "\n";
  const auto changed =
      failure_message([&] { SftpDropzone(unpinned, with_known_hosts, deadlines).connect(); },
                      FailureKind::permanent);
  CHECK_THAT(changed, Catch::Contains(server().host_key_sha256()));
  std::istringstream other_fp(run_capture({.argv = {"ssh-keygen", "-lf", other_key + ".pub"}}));
  std::string bits, expected;
  other_fp >> bits >> expected;
  CHECK_THAT(changed, Catch::Contains("expects " + expected));

  std::ofstream(known_hosts) << host << " " << server().host_public_key_line() << "\n";
  SftpDropzone(unpinned, with_known_hosts, deadlines).connect();
  fs::remove_all(dir);
}

TEST_CASE("sftp: permission denied makes the dropzone unavailable until it is fixed", "[sftp]") {
  SocketDeadlines deadlines;
  const std::string dir = server().data_dir() + "/root-only";
  fs::create_directories(dir);  // owned by root, not writable by the SFTP user
  SftpDropzone dz(server().settings(), options(), deadlines);
  const auto message =
      failure_message([&] { dz.write_file(dir, "x.json", "{}", {}); }, FailureKind::unavailable);
  CHECK_THAT(message, Catch::Contains("permission denied"));
  CHECK_THAT(message, Catch::Contains(dir));
  CHECK(names_in(dir).empty());
  // Below a directory it may not write to, the missing export directory cannot be made either.
  failure_message([&] { dz.write_file(dir + "/sub", "x.json", "{}", {}); },
                  FailureKind::unavailable);
  // The operator fixes the permissions: the same session delivers.
  run_capture({.argv = {"chown", server().user(), dir}});
  CHECK_FALSE(dz.write_file(dir, "x.json", "{}", {}).already_present);
  CHECK(names_in(dir) == std::vector<std::string>{"x.json"});
  fs::remove_all(dir);
}

TEST_CASE("sftp: a session killed by the server is re-established on the next call", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("reconnect");
  SftpDropzone dz(server().settings(), options(), deadlines);
  dz.write_file(dir, "before.json", "{}", {});
  server().kill_sessions();
  CHECK(eventually(
      [] {
        return run({.argv = {"sh", "-c",
                             "ss -tnH state established '( dport = :" +
                                 std::to_string(server().port()) + " )' | grep -q ."}}) != 0;
      },
      std::chrono::seconds(5)));
  CHECK_FALSE(dz.write_file(dir, "after.json", "{}", {}).already_present);
  CHECK(names_in(dir) == std::vector<std::string>{"after.json", "before.json"});
}

TEST_CASE("sftp: a frozen server makes the call give up within the deadline", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("frozen");
  SftpDropzone dz(server().settings(), options(std::chrono::seconds(2)), deadlines);
  dz.write_file(dir, "before.json", "{}", {});
  server().freeze();
  const auto started = std::chrono::steady_clock::now();
  const auto message =
      failure_message([&] { dz.write_file(dir, "during.json", "{}", {}); }, FailureKind::transient);
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK_THAT(message, Catch::Contains("no answer"));
  CHECK(waited >= std::chrono::milliseconds(1900));
  CHECK(waited < std::chrono::seconds(4));

  // A new session to the frozen server (TCP accepted, no banner) gives up too.
  const auto connect_started = std::chrono::steady_clock::now();
  failure_message([&] { dz.connect(); }, FailureKind::transient);
  CHECK(std::chrono::steady_clock::now() - connect_started < std::chrono::seconds(4));

  // abort_all (the daemon stopping) ends a hanging call at once.
  SftpDropzone patient(server().settings(), options(std::chrono::seconds(60)), deadlines);
  std::atomic<bool> returned{false};
  bool returned_before_abort = true;
  std::chrono::steady_clock::time_point aborted_at;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    returned_before_abort = returned;
    aborted_at = std::chrono::steady_clock::now();
    deadlines.abort_all();
  });
  const auto abort_message = failure_message([&] { patient.connect(); }, FailureKind::transient);
  returned = true;
  const auto returned_at = std::chrono::steady_clock::now();
  stopper.join();
  // Still waiting on the frozen server when abort_all came, and ended by it.
  CHECK_FALSE(returned_before_abort);
  CHECK(returned_at >= aborted_at);
  CHECK(returned_at - aborted_at < std::chrono::seconds(2));
  CHECK_THAT(abort_message, Catch::Contains("no answer"));
  server().thaw();
}

TEST_CASE("sftp: listing, capped reads, moves without replace, removes", "[sftp]") {
  SocketDeadlines deadlines;
  const auto acks = server().user_dir("acks");
  SftpDropzone dz(server().settings(), options(), deadlines);
  std::ofstream(acks + "/ack_a.json") << "12345";
  fs::create_directory(acks + "/sub");
  fs::create_symlink("/etc/passwd", acks + "/ack_link.json");
  REQUIRE(::mkfifo((acks + "/ack_fifo.json").c_str(), 0644) == 0);

  const auto listed = dz.list_files(acks);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == "ack_a.json");
  CHECK(listed[0].size == 5);
  CHECK(dz.read_file(acks, "ack_a.json", 5) == std::optional<std::string>("12345"));
  CHECK_FALSE(dz.read_file(acks, "ack_a.json", 4).has_value());
  failure_message([&] { dz.read_file(acks, "ack_link.json", 100); }, FailureKind::permanent);
  failure_message([&] { dz.read_file(acks, "ack_fifo.json", 100); }, FailureKind::permanent);

  dz.make_directory(acks + "/processed");
  dz.make_directory(acks + "/processed");
  std::ofstream(acks + "/processed/ack_a.json") << "earlier";
  CHECK_FALSE(dz.move_file(acks, "ack_a.json", acks + "/processed", "ack_a.json"));
  CHECK(dz.move_file(acks, "ack_a.json", acks + "/processed", "ack_a.1.json"));
  CHECK(slurp(acks + "/processed/ack_a.1.json") == "12345");
  dz.remove_file(acks + "/processed", "ack_a.1.json");
  dz.remove_file(acks + "/processed", "ack_a.1.json");
  CHECK(names_in(acks + "/processed") == std::vector<std::string>{"ack_a.json"});
}

TEST_CASE("sftp: sessions leave no descriptors behind", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("fds");
  const auto before = open_descriptors();
  for (int i = 0; i < 5; ++i) {
    SftpDropzone dz(server().settings(), options(), deadlines);
    dz.write_file(dir, std::to_string(i).append(".json"), "{}", {});
  }
  auto refused = server().settings();
  refused.host_key_sha256 = {"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
  failure_message([&] { SftpDropzone(refused, options(), deadlines).connect(); },
                  FailureKind::permanent);
  CHECK(open_descriptors() == before);
}

TEST_CASE("sftp: a listing its caller leaves by an exception closes its handle", "[sftp]") {
  SocketDeadlines deadlines;
  const auto dir = server().user_dir("abandoned-listing");
  const auto session = SftpSession::open(server().settings(), options(), deadlines);
  const auto before = server().session_descriptors();
  for (int i = 0; i < 50; ++i) {
    const SftpCall call(*session);
    CHECK_THROWS_AS(call.list(dir,
                              [](const sftp_attributes_struct&) {
                                throw std::runtime_error("the caller gives up");
                              }),
                    std::runtime_error);
  }
  // Each directory handle left open would hold a descriptor on the server.
  CHECK(server().session_descriptors() < before + 10);
  CHECK(session->connected());
}

TEST_CASE("sftp: file sync as the server offers it, never directory sync", "[sftp]") {
  SocketDeadlines deadlines;
  SftpDropzone dz(server().settings(), options(), deadlines);
  CHECK_FALSE(dz.capabilities().file_sync);  // not known before the first session
  dz.connect();
  CHECK(dz.capabilities() == DropzoneCapabilities{.file_sync = true, .directory_sync = false});
}

TEST_CASE("sftp: an unreachable server is a transient failure", "[sftp]") {
  SocketDeadlines deadlines;
  auto unreachable = server().settings();
  unreachable.port = free_port();
  const auto message = failure_message(
      [&] { SftpDropzone(unreachable, options(), deadlines).connect(); }, FailureKind::transient);
  CHECK_THAT(message, Catch::Contains("cannot connect"));
}

TEST_CASE("sftp: day folders are listed and removed without following symlinks", "[sftp]") {
  SocketDeadlines deadlines;
  const auto acks = server().user_dir("day-folders");
  const auto outside = server().user_dir("day-folders-outside");
  SftpDropzone dz(server().settings(), options(), deadlines);
  const std::string processed = acks + "/processed";
  // Made by the server's user, who must be able to empty them.
  dz.make_directory(processed + "/2026-10-01");
  dz.make_directory(processed + "/2026-10-02/nested");
  for (const char* name : {"ack_a.json", "ack_b.json", "ack_c.json"}) {
    std::ofstream(processed + "/2026-10-01/" + name) << name;
  }
  std::ofstream(processed + "/2026-10-02/ack_d.json") << "d";
  std::ofstream(processed + "/loose.json") << "not a folder";
  std::ofstream(outside + "/keep.json") << "keep";
  fs::create_directory_symlink(outside, processed + "/2026-09-30");

  auto folders = dz.list_directories(processed);
  std::sort(folders.begin(), folders.end());
  CHECK(folders == std::vector<std::string>{"2026-10-01", "2026-10-02"});
  CHECK(dz.list_directories(acks + "/error").empty());

  CHECK(dz.remove_directory(processed + "/2026-10-01") == 3);
  CHECK_FALSE(fs::exists(processed + "/2026-10-01"));
  CHECK(dz.remove_directory(processed + "/2026-10-01") == 0);  // gone already
  CHECK_THAT(failure_message([&] { dz.remove_directory(processed + "/2026-09-30"); },
                             FailureKind::permanent),
             Catch::Contains("it is a symlink (symlinks are not followed)"));
  CHECK(names_in(outside) == std::vector<std::string>{"keep.json"});
  CHECK_THAT(failure_message([&] { dz.remove_directory(processed + "/2026-10-02"); },
                             FailureKind::permanent),
             Catch::Contains("holds more than regular files"));
  CHECK(names_in(processed + "/2026-10-02") == std::vector<std::string>{"nested"});
  CHECK(names_in(processed) == std::vector<std::string>{"2026-09-30", "2026-10-02", "loose.json"});
}
