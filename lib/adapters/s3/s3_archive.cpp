// S3 requests over libcurl, whose CURLOPT_AWS_SIGV4 signs them; the payload
// digest goes in x-amz-content-sha256, so the store checks every body it takes.
#include "adapters/s3/s3_archive.h"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <memory>

#include "domain/failure.h"

namespace exportd {

namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// Once per process, before the first handle: neither library may be set up
// by two threads at once, and a function-local static is set up by one.
void ensure_libraries() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK && sodium_init() >= 0;
  if (!ready) {
    throw Failure(FailureKind::transient, "cannot initialise libcurl and libsodium");
  }
}

std::string sha256_of(std::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  std::array<char, 2 * crypto_hash_sha256_BYTES + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return hex.data();
}

// Object keys in the path: every byte but the unreserved ones and '/'
// percent-encoded, as the signature's canonical URI expects.
std::string encode_key(const std::string& key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out.append({'%', kHex[u >> 4], kHex[u & 0xF]});
    }
  }
  return out;
}

// The text of <tag> in an S3 error document, or "" when there is none.
std::string xml_text(const std::string& body, const std::string& tag) {
  const std::string open = "<" + tag + ">";
  const auto begin = body.find(open);
  if (begin == std::string::npos) {
    return "";
  }
  const auto end = body.find("</" + tag + ">", begin);
  return end == std::string::npos ? ""
                                  : body.substr(begin + open.size(), end - begin - open.size());
}

struct Upload {
  std::string_view bytes;
  size_t offset = 0;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto& upload = *static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload.bytes.size() - upload.offset);
  std::copy_n(upload.bytes.data() + upload.offset, n, buffer);
  upload.offset += n;
  return n;
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct Response {
  long status = 0;
  std::string body;
};

// Why a request the store answered failed. Waiting helps with the store's own
// trouble (5xx, 408, 429, SlowDown); anything else it refuses (credentials,
// signature, region, bucket) is the configuration's to fix.
FailureKind kind_of_refusal(long status, const std::string& code) {
  if (status >= 500 || status == 408 || status == 429 || code == "SlowDown" ||
      code == "RequestTimeout") {
    return FailureKind::transient;
  }
  return FailureKind::bad_config;
}

FailureKind kind_of_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return FailureKind::bad_config;
    default:
      return FailureKind::transient;
  }
}

enum class Method { put, get, remove };

const char* verb(Method method) {
  return method == Method::put ? "put" : method == Method::get ? "get" : "remove";
}

// One signed request; throws Failure when it cannot be made or the store
// answers with anything but success, except a 404 of a missing key, which the
// caller judges.
Response perform(const S3ArchiveSettings& s, Method method, const std::string& key,
                 std::string_view body, const std::string& sha256_hex) {
  const std::string what = std::string("cannot ")
                               .append(verb(method))
                               .append(" '")
                               .append(key)
                               .append("' in bucket '")
                               .append(s.bucket)
                               .append("' at '")
                               .append(s.endpoint)
                               .append("'");
  CurlHandle curl(curl_easy_init());
  if (!curl) {
    throw Failure(FailureKind::transient, what + ": cannot create a libcurl handle");
  }
  const std::string url = s.endpoint + "/" + encode_key(s.bucket) + "/" + encode_key(key);
  const std::string sigv4 = "aws:amz:" + s.region + ":s3";
  HeaderList headers(curl_slist_append(
      nullptr, std::string("x-amz-content-sha256: ").append(sha256_of(body)).c_str()));
  // No "Expect: 100-continue" round trip before a body.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  if (method == Method::put) {
    headers.reset(
        curl_slist_append(headers.release(), ("x-amz-meta-sha256: " + sha256_hex).c_str()));
  }
  Upload upload{body};
  Response response;
  std::array<char, CURL_ERROR_SIZE> error{};
  CURL* h = curl.get();
  const long timeout_ms = static_cast<long>(s.timeout.count());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, s.access_key_id.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, s.secret_key.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  if (method == Method::put) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_body);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == Method::remove) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  if (const CURLcode code = curl_easy_perform(h); code != CURLE_OK) {
    std::string reason = error[0] != '\0' ? error.data() : curl_easy_strerror(code);
    if (code == CURLE_OPERATION_TIMEDOUT) {
      reason = std::string("no answer within ")
                   .append(std::to_string(timeout_ms))
                   .append(" ms (")
                   .append(reason)
                   .append(")");
    }
    throw Failure(kind_of_curl_error(code), what + ": " + reason);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (response.status >= 200 && response.status < 300) {
    return response;
  }
  const std::string code = xml_text(response.body, "Code");
  if (response.status == 404 && (code == "NoSuchKey" || (code.empty() && method == Method::get))) {
    return response;
  }
  std::string reason = std::string("HTTP ").append(std::to_string(response.status));
  if (!code.empty()) {
    reason.append(" ").append(code);
  }
  if (const std::string message = xml_text(response.body, "Message"); !message.empty()) {
    reason.append(": ").append(message);
  }
  throw Failure(kind_of_refusal(response.status, code), what + ": " + reason);
}

}  // namespace

S3Archive::S3Archive(S3ArchiveSettings settings) : settings_(std::move(settings)) {
  ensure_libraries();
  while (settings_.endpoint.ends_with('/')) {
    settings_.endpoint.pop_back();
  }
}

S3Archive::~S3Archive() {
  sodium_memzero(settings_.secret_key.data(), settings_.secret_key.size());
}

std::string S3Archive::put(const std::string& name, std::string_view bytes,
                           const std::string& sha256_hex) {
  std::string key = settings_.prefix + name;
  perform(settings_, Method::put, key, bytes, sha256_hex);
  return key;
}

std::optional<std::string> S3Archive::get(const std::string& location) {
  Response response = perform(settings_, Method::get, location, {}, {});
  if (response.status == 404) {
    return std::nullopt;
  }
  return std::move(response.body);
}

void S3Archive::remove(const std::string& location) {
  perform(settings_, Method::remove, location, {}, {});
}

}  // namespace exportd
