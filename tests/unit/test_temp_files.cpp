// The host tag inside temp-file tokens: derived from the machine id, the same
// in every process and every build.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "adapters/temp_files.h"

using namespace exportd;

TEST_CASE("the host tag is a stable hash of the machine id", "[temp]") {
  // A fixed value: a tag that changed with the build would orphan the
  // leftovers of the daemon that ran before an upgrade.
  CHECK(host_tag_for("3d1219c7c4c5404aaa1f6d2a48adfda4") == "20298957");
  CHECK(host_tag_for("3d1219c7c4c5404aaa1f6d2a48adfda4") ==
        host_tag_for("3d1219c7c4c5404aaa1f6d2a48adfda4"));
  CHECK(host_tag_for("3d1219c7c4c5404aaa1f6d2a48adfda4") !=
        host_tag_for("3d1219c7c4c5404aaa1f6d2a48adfda5"));
  for (const auto* id : {"", "a", "3d1219c7c4c5404aaa1f6d2a48adfda4"}) {
    const auto tag = host_tag_for(id);
    CHECK(!tag.empty());
    CHECK(tag.size() <= 8);
    CHECK(tag.find_first_not_of("0123456789") == std::string::npos);
  }
}

TEST_CASE("temp tokens carry this machine's tag and this process's id", "[temp]") {
  std::string machine_id;
  std::ifstream("/etc/machine-id") >> machine_id;
  if (!machine_id.empty()) {
    CHECK(host_tag() == host_tag_for(machine_id));
  }
  CHECK(new_temp_token().starts_with(host_tag() + "-" + std::to_string(::getpid()) + "-"));
}
