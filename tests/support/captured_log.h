// The process logger routed into a string for a test's lifetime, so a test
// can read the events the code under test logged, from any thread.
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "logging/logging.h"

namespace exportd::testing {

// Puts the logger's stderr sink back when the test ends.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format = LogFormat::json) {
    setup_logging(Level::info, format);
    logger_ = spdlog::get("exportd");
    saved_ = logger_->sinks();
    logger_->sinks() = {std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)};
    // Applies the format's pattern to the capturing sink too.
    setup_logging(Level::info, format);
  }
  ~CapturedLog() {
    logger_->sinks() = saved_;
    setup_logging(Level::info, LogFormat::json);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  // Read once the threads that log have stopped.
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) {
      result.push_back(line);
    }
    return result;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<spdlog::sink_ptr> saved_;
};

}  // namespace exportd::testing
