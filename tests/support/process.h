// Child processes for tests and benchmarks: run a command (optionally as
// another user), start one in the background, signal and reap it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace exportd::testing {

struct Command {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::string run_as_user;                 // empty: stay who we are
  std::string stdout_path;                 // empty: inherit
  std::string stderr_path;
  std::string stdin_path;  // empty: inherit
};

// Runs to completion; returns the exit status (or 128+signal).
int run(const Command& command);
// Runs and returns stdout; throws when the exit status is not 0.
std::string run_capture(const Command& command);

class Process {
 public:
  explicit Process(const Command& command);
  ~Process();  // SIGKILL and reap if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits up to `timeout`; returns the exit status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  // Peak resident set of the reaped child, in KiB (0 before it was reaped).
  long peak_rss_kib() const { return peak_rss_kib_; }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  long peak_rss_kib_ = 0;
};

// Polls `condition` every few ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The processes whose parent is `parent`, and all of theirs, from /proc.
std::vector<pid_t> children_of(pid_t parent);
std::vector<pid_t> descendants_of(pid_t ancestor);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// mkdtemp under $TMPDIR or /tmp.
std::string make_temp_dir(const std::string& prefix);

}  // namespace exportd::testing
