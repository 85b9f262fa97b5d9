#include "tests/support/sshd_server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "tests/support/files.h"
#include "tests/support/process.h"

namespace exportd::testing {

namespace {

namespace fs = std::filesystem;

std::string random_password() {
  std::random_device random;
  static constexpr char kChars[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 24; ++i) {
    out.push_back(kChars[random() % (sizeof kChars - 1)]);
  }
  return out;
}

void generate_key(const std::string& type, const std::string& path,
                  const std::string& passphrase = "") {
  run_capture({.argv = {"ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", "exportd-test",
                        "-f", path}});
}

}  // namespace

SshdServer::SshdServer() {
  if (::geteuid() != 0) {
    throw std::runtime_error("the sshd test server needs root (privilege separation, passwords)");
  }
  dir_ = make_temp_dir("exportd-sshd");
  data_dir_ = dir_ + "/data";
  fs::create_directories(data_dir_);
  // sshd reads authorized_keys as the user, and the user writes below data/.
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::create_directories("/run/sshd");

  if (run({.argv = {"id", "-u", user_}, .stdout_path = "/dev/null", .stderr_path = "/dev/null"}) !=
      0) {
    run_capture({.argv = {"useradd", "--system", "--no-create-home", "--shell", "/bin/sh",
                          "--home-dir", "/nonexistent", user_}});
  }
  password_ = random_password();
  run_capture({.argv = {"sh", "-c", "echo '" + user_ + ":" + password_ + "' | chpasswd"}});
  run_capture({.argv = {"chown", user_, data_dir_}});

  const std::string host_key = dir_ + "/ssh_host_ed25519_key";
  generate_key("ed25519", host_key);
  ed25519_key_ = dir_ + "/client_ed25519";
  rsa_key_ = dir_ + "/client_rsa";
  protected_key_ = dir_ + "/client_protected";
  generate_key("ed25519", ed25519_key_);
  generate_key("rsa", rsa_key_);
  generate_key("ed25519", protected_key_, key_passphrase_);
  {
    std::ofstream keys(dir_ + "/authorized_keys");
    keys << slurp(ed25519_key_ + ".pub") << slurp(rsa_key_ + ".pub")
         << slurp(protected_key_ + ".pub");
  }
  fs::permissions(dir_ + "/authorized_keys", fs::perms::owner_read | fs::perms::owner_write |
                                                 fs::perms::group_read | fs::perms::others_read);
  std::istringstream fingerprint(run_capture({.argv = {"ssh-keygen", "-lf", host_key + ".pub"}}));
  std::string bits;
  fingerprint >> bits >> host_key_sha256_;

  port_ = free_port();
  config_path_ = dir_ + "/sshd_config";
  std::ofstream config(config_path_);
  config << "Port " << port_ << "\n"
         << "ListenAddress 127.0.0.1\n"
         << "HostKey " << host_key << "\n"
         << "PidFile none\n"
         << "AuthorizedKeysFile " << dir_ << "/authorized_keys\n"
         << "StrictModes no\n"
         << "PubkeyAuthentication yes\n"
         << "PasswordAuthentication yes\n"
         << "KbdInteractiveAuthentication no\n"
         << "UsePAM no\n"
         << "PermitRootLogin no\n"
         << "AllowUsers " << user_ << "\n"
         << "Subsystem sftp internal-sftp\n"
         << "ForceCommand internal-sftp\n"
         << "AllowTcpForwarding no\n"
         << "X11Forwarding no\n"
         << "MaxStartups 200\n"
         << "MaxSessions 50\n"
         << "LogLevel ERROR\n";
  config.close();
  start();
}

SshdServer::~SshdServer() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SshdServer::start() {
  sshd_ =
      std::make_unique<Process>(Command{.argv = {"/usr/sbin/sshd", "-D", "-e", "-f", config_path_},
                                        .stderr_path = dir_ + "/sshd.log"});
  const bool listening = eventually(
      [&] {
        return run({.argv = {"sh", "-c",
                             "ss -ltnH 'sport = :" + std::to_string(port_) + "' | grep -q ."}}) ==
               0;
      },
      std::chrono::seconds(10));
  if (!listening) {
    throw std::runtime_error("sshd did not start: " + slurp(dir_ + "/sshd.log"));
  }
}

void SshdServer::stop() {
  if (!sshd_) {
    return;
  }
  thaw();
  for (const pid_t pid : descendants_of(sshd_->pid())) {
    ::kill(pid, SIGKILL);
  }
  sshd_->signal(SIGTERM);
  sshd_->wait(std::chrono::seconds(5));
  sshd_.reset();
}

void SshdServer::freeze() {
  sshd_->signal(SIGSTOP);
  for (const pid_t pid : descendants_of(sshd_->pid())) {
    ::kill(pid, SIGSTOP);
  }
}

void SshdServer::thaw() {
  for (const pid_t pid : descendants_of(sshd_->pid())) {
    ::kill(pid, SIGCONT);
  }
  sshd_->signal(SIGCONT);
}

void SshdServer::kill_sessions() {
  for (const pid_t pid : descendants_of(sshd_->pid())) {
    ::kill(pid, SIGKILL);
  }
}

size_t SshdServer::session_descriptors() const {
  size_t count = 0;
  for (const pid_t pid : descendants_of(sshd_->pid())) {
    std::error_code error;  // a process that just exited has none
    for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end;
         !error && it != end; it.increment(error)) {
      ++count;
    }
  }
  return count;
}

std::string SshdServer::host_public_key_line() const {
  std::istringstream line(slurp(dir_ + "/ssh_host_ed25519_key.pub"));
  std::string type, key;
  line >> type >> key;
  return type + " " + key;
}

SshdServer& SshdServer::shared() {
  static SshdServer server;
  return server;
}

std::string SshdServer::user_dir(const std::string& name) {
  std::string dir = data_dir_ + "/" + name + "-" + std::to_string(++user_dirs_);
  fs::create_directories(dir);
  run_capture({.argv = {"chown", user_, dir}});
  return dir;
}

ConnectionSettings SshdServer::settings(const std::string& export_path) const {
  ConnectionSettings s;
  s.mode = DropzoneMode::sftp;
  s.host = "127.0.0.1";
  s.port = port_;
  s.username = user_;
  s.auth = "publickey";
  s.private_key_path = ed25519_key_;
  s.host_key_sha256 = {host_key_sha256_};
  s.export_path = export_path;
  s.ack_path = export_path + "/acks";
  s.connect_timeout_s = 5;
  return s;
}

nlohmann::json SshdServer::connection_config(const std::string& dir) const {
  return {{"mode", "sftp"},
          {"host", "127.0.0.1"},
          {"port", port_},
          {"username", user_},
          {"auth", "publickey"},
          {"private_key_path", ed25519_key_},
          {"host_key_sha256", host_key_sha256_},
          {"export_path", dir},
          {"ack_path", dir}};
}

}  // namespace exportd::testing
