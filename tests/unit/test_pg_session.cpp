// Every connection carries the daemon's deadlines, merged into the operator's
// URL without overriding what the operator set.
#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <map>

#include "adapters/postgres/pg_session.h"

using namespace exportd;

namespace {

// What libpq itself reads from `conninfo`.
std::map<std::string, std::string> parsed(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  REQUIRE(options != nullptr);
  std::map<std::string, std::string> out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) {
      out[o->keyword] = o->val;
    }
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

TEST_CASE("a URL gets connect, keepalive and statement deadlines", "[postgres][session]") {
  const auto options = parsed(
      pg_conninfo("postgresql://app:it's%20secret@db.example:5433/orders?sslmode=require",
                  {.connect = std::chrono::seconds(4), .statement = std::chrono::seconds(9)}));
  CHECK(options.at("host") == "db.example");
  CHECK(options.at("port") == "5433");
  CHECK(options.at("dbname") == "orders");
  CHECK(options.at("user") == "app");
  CHECK(options.at("password") == "it's secret");
  CHECK(options.at("sslmode") == "require");
  CHECK(options.at("connect_timeout") == "4");
  CHECK(options.at("keepalives") == "1");
  CHECK(options.count("keepalives_idle") == 1);
  CHECK(options.count("keepalives_interval") == 1);
  CHECK(options.count("keepalives_count") == 1);
  CHECK(options.count("tcp_user_timeout") == 1);
  CHECK(options.at("options") == "-c statement_timeout=9000");
}

TEST_CASE("what the operator set stays as set", "[postgres][session]") {
  const auto options =
      parsed(pg_conninfo("host=/run/postgresql dbname=orders connect_timeout=20 keepalives_idle=60"
                         " options='-c search_path=erp'"));
  CHECK(options.at("host") == "/run/postgresql");
  CHECK(options.at("connect_timeout") == "20");
  CHECK(options.at("keepalives_idle") == "60");
  CHECK(options.at("options") == "-c search_path=erp -c statement_timeout=30000");
  CHECK(parsed(pg_conninfo("postgresql:///orders?options=-c%20statement_timeout%3D0"))
            .at("options") == "-c statement_timeout=0");
}

TEST_CASE("a URL libpq cannot read is left for libpq to refuse", "[postgres][session]") {
  CHECK(pg_conninfo("postgresql://h/db?no_such_option=1") == "postgresql://h/db?no_such_option=1");
}
