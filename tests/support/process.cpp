#include "tests/support/process.h"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace exportd::testing {

namespace {

[[noreturn]] void exec_child(const Command& command) {
  for (const auto& [key, value] : command.env) {
    ::setenv(key.c_str(), value.c_str(), 1);
  }
  const auto redirect = [](const std::string& path, int fd) {
    if (path.empty()) {
      return;
    }
    const int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, fd);
      ::close(out);
    }
  };
  redirect(command.stdout_path, STDOUT_FILENO);
  redirect(command.stderr_path, STDERR_FILENO);
  if (!command.stdin_path.empty()) {
    const int in = ::open(command.stdin_path.c_str(), O_RDONLY);
    if (in >= 0) {
      ::dup2(in, STDIN_FILENO);
      ::close(in);
    }
  }
  if (!command.run_as_user.empty()) {
    const passwd* user = ::getpwnam(command.run_as_user.c_str());
    if (user == nullptr || ::initgroups(user->pw_name, user->pw_gid) != 0 ||
        ::setgid(user->pw_gid) != 0 || ::setuid(user->pw_uid) != 0) {
      std::_Exit(126);
    }
    ::setenv("HOME", user->pw_dir, 1);
  }
  // Unblock what a parent may have blocked (the daemon relies on defaults).
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::vector<char*> argv;
  for (const auto& arg : command.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::_Exit(127);
}

int decode(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return 128 + WTERMSIG(status);
}

}  // namespace

int run(const Command& command) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(command);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode(status);
}

std::string run_capture(const Command& command) {
  char path[] = "/tmp/exportd-capture-XXXXXX";
  const int fd = ::mkstemp(path);
  ::close(fd);
  Command with_output = command;
  with_output.stdout_path = path;
  const int status = run(with_output);
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  ::unlink(path);
  if (status != 0) {
    throw std::runtime_error("command '" + command.argv.front() + "' exited with " +
                             std::to_string(status));
  }
  return out.str();
}

Process::Process(const Command& command) {
  pid_ = ::fork();
  if (pid_ == 0) {
    exec_child(command);
  }
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
}

void Process::signal(int sig) const {
  ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (reaped_) {
    return decode(status_);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    rusage usage{};
    if (::wait4(pid_, &status_, WNOHANG, &usage) == pid_) {
      reaped_ = true;
      peak_rss_kib_ = usage.ru_maxrss;
      return decode(status_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  return -1;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  if (fd >= 0) {
    ::close(fd);
  }
  if (!bound) {
    throw std::runtime_error("cannot find a free port: " + std::string(std::strerror(error)));
  }
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  return pattern;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) {
      children.push_back(static_cast<pid_t>(std::stol(name)));
    }
  }
  return children;
}

std::vector<pid_t> descendants_of(pid_t ancestor) {
  std::vector<pid_t> found;
  for (const pid_t child : children_of(ancestor)) {
    found.push_back(child);
    for (const pid_t grandchild : descendants_of(child)) {
      found.push_back(grandchild);
    }
  }
  return found;
}

}  // namespace exportd::testing
