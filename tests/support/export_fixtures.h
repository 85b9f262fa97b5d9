// An export source with every field set, for tests of the document, its
// contract check and what is built from them.
#pragma once

#include "domain/export_document.h"

namespace exportd::testing {

inline ExportSource complete_export_source() {
  ExportSource s;
  s.export_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  s.org_slug = "acme";
  s.draft_order_id = "550e8400-e29b-41d4-a716-446655440000";
  s.approved_at = "2025-12-26T10:00:00Z";
  s.customer = CustomerRow{"0b6f1c7e-2f1d-4d8e-9a51-5b7f0c3b9a10",
                           "4711",
                           "ACME GmbH",
                           "orders@acme.example",
                           std::nullopt,
                           R"({"street": "Hauptstr. 1", "city": "Berlin", "country": "DE"})",
                           std::nullopt};
  s.external_order_number = "PO-2025-0042";
  s.order_date = "2025-12-20";
  s.currency = "EUR";
  s.lines = {
      LineRow{2, "B", std::nullopt, "second", "1.0000", "EA", std::nullopt},
      LineRow{1, "ABC-100", "X-9", "Widget, blue", "10.0000", "EA", "1.2300"},
  };
  s.created_at = "2025-12-26T10:00:01Z";
  return s;
}

}  // namespace exportd::testing
