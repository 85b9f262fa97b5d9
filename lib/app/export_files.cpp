// The document first and the `.done` marker last: an ERP that waits for the
// marker never sees it before the document and its checksum are complete.
#include "app/export_files.h"

#include "domain/file_name.h"

namespace exportd {

WriteResult write_export_files(Dropzone& dropzone, const ConnectionSettings& settings,
                               const std::string& file_name, std::string_view bytes,
                               std::string_view sha256_hex) {
  const WriteOptions options{.atomic = settings.atomic_write, .sync = true};
  WriteResult document = dropzone.write_file(settings.export_path, file_name, bytes, options);
  if (settings.checksum_file) {
    dropzone.write_file(settings.export_path, checksum_file_name(file_name),
                        sha256sum_line(sha256_hex, file_name), options);
  }
  if (settings.done_file) {
    dropzone.write_file(settings.export_path, done_file_name(file_name), "", options);
  }
  return document;
}

}  // namespace exportd
