// An export's files in its dropzone: the document, then the markers its
// connection asks for (docs/erp-integration.md, "Marker and checksum files").
#pragma once

#include <string>
#include <string_view>

#include "domain/connection_settings.h"
#include "ports/dropzone.h"

namespace exportd {

// Writes `file_name` into the connection's export_path, then, if asked for,
// its `.sha256` file and its `.done` marker, each the same way (atomic as
// the connection says, flushed). A file already present was written by an
// earlier attempt and is kept, so a retry completes what a failed one began.
// Throws the first write's Failure: the export is not delivered until all
// of its files are in place. Returns the document's result.
WriteResult write_export_files(Dropzone& dropzone, const ConnectionSettings& settings,
                               const std::string& file_name, std::string_view bytes,
                               std::string_view sha256_hex);

}  // namespace exportd
