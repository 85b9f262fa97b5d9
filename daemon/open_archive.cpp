// Opens the archive `[archive]` configures, for the daemon and for the
// commands that read copies back; the S3 secret is read here, once.
#include <fstream>
#include <iterator>

#include "adapters/filesystem/directory_archive.h"
#include "adapters/s3/s3_archive.h"
#include "app/secret_box.h"
#include "commands.h"
#include "domain/failure.h"

namespace exportd::cli {

namespace {

// The longest one archive request may take, connecting included: a copy is
// small, and a store that has not answered by then is treated as down.
constexpr std::chrono::seconds kArchiveTimeout{30};

// The S3 secret key, from systemd's credential s3.secret or
// `[archive] secret_key_file`, without the final line break an editor adds.
// Failures name the file, never what is in it.
std::string read_s3_secret(const ArchiveConfig& archive) {
  const std::string path = credential_path("s3.secret", archive.secret_key_file);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Failure(FailureKind::bad_config, "cannot read 'archive.secret_key_file' '" + path + "'");
  }
  std::string secret((std::istreambuf_iterator<char>(file)), {});
  if (secret.ends_with('\n')) {
    secret.pop_back();
  }
  if (secret.ends_with('\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    throw Failure(FailureKind::bad_config, "'archive.secret_key_file' '" + path + "' is empty");
  }
  return secret;
}

}  // namespace

std::unique_ptr<Archive> open_archive(const DaemonConfig& config) {
  const ArchiveConfig& archive = config.archive;
  switch (archive.mode) {
    case ArchiveMode::off:
      return nullptr;
    case ArchiveMode::s3:
      return std::make_unique<S3Archive>(S3ArchiveSettings{.endpoint = archive.endpoint,
                                                           .bucket = archive.bucket,
                                                           .region = archive.region,
                                                           .prefix = archive.prefix,
                                                           .access_key_id = archive.access_key_id,
                                                           .secret_key = read_s3_secret(archive),
                                                           .timeout = kArchiveTimeout});
    case ArchiveMode::directory:
      return std::make_unique<DirectoryArchive>(archive.directory);
  }
  return nullptr;
}

}  // namespace exportd::cli
