// Connection settings parsed once per change of a connection's stored text.
#include <catch2/catch.hpp>

#include "app/connection_settings_cache.h"

using namespace exportd;

namespace {

const std::string kFirst =
    R"({"mode":"filesystem","export_path":"/drop/out","ack_path":"/drop/acks"})";
const std::string kSecond =
    R"({"mode":"filesystem","export_path":"/drop/out2","ack_path":"/drop/acks"})";

FailureKind kind_of_get(ConnectionSettingsCache& cache, const std::string& id,
                        const std::string& config) {
  try {
    cache.get(id, config);
  } catch (const Failure& e) {
    return e.kind();
  }
  FAIL("no failure");
  return FailureKind::transient;
}

}  // namespace

TEST_CASE("connection settings follow each connection's stored text", "[app]") {
  ConnectionSettingsCache cache;
  CHECK(cache.get("c1", kFirst).export_path == "/drop/out");
  CHECK(cache.get("c1", kFirst).export_path == "/drop/out");
  CHECK(cache.get("c2", kSecond).export_path == "/drop/out2");
  CHECK(cache.get("c1", kSecond).export_path == "/drop/out2");
  CHECK(cache.get("c2", kSecond).export_path == "/drop/out2");
}

TEST_CASE("settings that do not parse fail every time until the text changes", "[app]") {
  ConnectionSettingsCache cache;
  const std::string bad = R"({"mode":"ftp","export_path":"/x","ack_path":"/y"})";
  CHECK(kind_of_get(cache, "c1", bad) == FailureKind::permanent);
  CHECK(kind_of_get(cache, "c1", bad) == FailureKind::permanent);
  CHECK_THROWS_WITH(cache.get("c1", bad), Catch::Contains("'mode'"));
  CHECK(kind_of_get(cache, "c1", "not json") == FailureKind::permanent);
  CHECK(cache.get("c1", kFirst).export_path == "/drop/out");
}
