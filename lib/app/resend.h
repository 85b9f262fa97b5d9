// The `resend` command: writes the archived bytes of a SENT or ACKED export
// again under its file name, for an ERP that lost the file. Nothing else
// changes: the export keeps its status and no new export is created.
#pragma once

#include <optional>
#include <string>

#include "app/dropzone_cache.h"
#include "ports/archive.h"
#include "ports/export_history.h"

namespace exportd {

struct ResendRequest {
  std::string export_id;
  std::optional<std::string> actor;
};

struct ResendResult {
  std::string path;      // the file in the dropzone
  bool written = false;  // false: the file was still there, nothing was written
};

// Checks, in this order: the ids (bad_config), that the export exists
// (bad_config), is SENT or ACKED and has an archive key (refused), that an
// archive is configured (`archive` null: bad_config naming [archive] mode),
// that the copy is there and matches the recorded sha256 (refused), and that
// the connection is active (refused); then writes with the connection's
// dropzone as a delivery does and records EXPORT_RESENT with the actor.
// Dropzone, archive and database failures keep their kind.
ResendResult resend_export(ExportHistory& history, Archive* archive, DropzoneCache& dropzones,
                           const ResendRequest& request);

}  // namespace exportd
