// A dropzone that hands every call to another but, while `failing` is set,
// refuses to write names ending in `suffix` (transient): a delivery cut off
// between an export's files.
#pragma once

#include <atomic>
#include <string>

#include "domain/failure.h"
#include "ports/dropzone.h"

namespace exportd::testing {

class FailingWritesDropzone : public Dropzone {
 public:
  FailingWritesDropzone(Dropzone& inner, std::string suffix)
      : inner_(inner), suffix_(std::move(suffix)) {}

  std::atomic<bool> failing{true};
  std::atomic<int> refused{0};
  std::atomic<int> written{0};  // files newly written, not found present

  WriteResult write_file(const std::string& directory, const std::string& name,
                         std::string_view bytes, WriteOptions options) override {
    if (failing && name.ends_with(suffix_)) {
      ++refused;
      throw Failure(FailureKind::transient, "injected failure writing '" + name + "'");
    }
    auto result = inner_.write_file(directory, name, bytes, options);
    written += result.already_present ? 0 : 1;
    return result;
  }
  void sync_directory(const std::string& directory) override { inner_.sync_directory(directory); }
  DropzoneCapabilities capabilities() const override { return inner_.capabilities(); }
  std::vector<DirectoryEntry> list_files(const std::string& directory) override {
    return inner_.list_files(directory);
  }
  std::optional<std::string> read_file(const std::string& directory, const std::string& name,
                                       size_t max_bytes) override {
    return inner_.read_file(directory, name, max_bytes);
  }
  bool move_file(const std::string& directory, const std::string& name,
                 const std::string& to_directory, const std::string& to_name) override {
    return inner_.move_file(directory, name, to_directory, to_name);
  }
  void remove_file(const std::string& directory, const std::string& name) override {
    inner_.remove_file(directory, name);
  }
  void make_directory(const std::string& directory) override { inner_.make_directory(directory); }
  std::vector<std::string> list_directories(const std::string& directory) override {
    return inner_.list_directories(directory);
  }
  size_t remove_directory(const std::string& directory) override {
    return inner_.remove_directory(directory);
  }

 private:
  Dropzone& inner_;
  std::string suffix_;
};

}  // namespace exportd::testing
