// The test programs' main. Logging is set up before any test starts a
// thread, as the daemon sets it up before starting its own: spdlog creates
// its registry on first use, inside its own (uninstrumented) library, so two
// worker threads logging first at once look like a data race to
// ThreadSanitizer.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "logging/logging.h"

int main(int argc, char* argv[]) {
  exportd::setup_logging(exportd::Level::info, exportd::LogFormat::json);
  return Catch::Session().run(argc, argv);
}
