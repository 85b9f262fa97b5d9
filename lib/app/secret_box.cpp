// libsodium secretbox: a fresh nonce per seal; the key wiped when the box goes.
#include "app/secret_box.h"

#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "domain/connection_settings.h"
#include "domain/failure.h"

namespace exportd {

namespace {

void ensure_sodium() {
  static const int ready = sodium_init();
  if (ready < 0) {
    throw Failure(FailureKind::transient, "cannot initialise libsodium");
  }
}

}  // namespace

SecretBox::SecretBox(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {
  ensure_sodium();
}

SecretBox::~SecretBox() {
  sodium_memzero(key_.data(), key_.size());
}

std::unique_ptr<SecretBox> SecretBox::from_key_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Failure(FailureKind::bad_config, "cannot read the secret key file '" + path + "'");
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), {});
  std::array<unsigned char, kKeyBytes> key{};
  if (bytes.size() == kKeyBytes) {
    std::copy(bytes.begin(), bytes.end(), key.begin());
  } else {
    while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) {
      bytes.pop_back();
    }
    size_t length = 0;
    if (bytes.size() != 2 * kKeyBytes ||
        sodium_hex2bin(key.data(), key.size(), bytes.data(), bytes.size(), nullptr, &length,
                       nullptr) != 0 ||
        length != kKeyBytes) {
      sodium_memzero(bytes.data(), bytes.size());
      throw Failure(FailureKind::bad_config,
                    "the secret key file '" + path +
                        "' must hold 32 raw bytes or 64 hex digits (openssl rand -hex 32)");
    }
  }
  sodium_memzero(bytes.data(), bytes.size());
  auto box = std::make_unique<SecretBox>(key);
  sodium_memzero(key.data(), key.size());
  return box;
}

std::string SecretBox::seal(const std::string& plain) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce,
                        key_.data());
  return out;
}

std::string SecretBox::open(const std::string& sealed) const {
  constexpr size_t overhead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < overhead) {
    throw Failure(FailureKind::permanent, "the connection's secret is damaged");
  }
  std::string plain(sealed.size() - overhead, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
          sealed.size() - crypto_secretbox_NONCEBYTES, nonce, key_.data()) != 0) {
    throw Failure(FailureKind::permanent,
                  "cannot decrypt the connection's secret: it was stored with another key "
                  "(store it again with 'connection set')");
  }
  return plain;
}

SecretOpener secret_opener_on_first_use(std::string key_path) {
  struct KeyOnFirstUse {
    std::string path;
    std::mutex mutex;
    std::unique_ptr<SecretBox> box;  // guarded by mutex; never replaced once set

    const SecretBox& get() {
      std::lock_guard lock(mutex);
      if (!box) {
        try {
          box = SecretBox::from_key_file(path);
        } catch (const Failure& e) {
          throw Failure(FailureKind::transient, e.what());
        }
      }
      return *box;
    }
  };
  auto key = std::make_shared<KeyOnFirstUse>();
  key->path = std::move(key_path);
  // SecretBox::open only reads the key, so opening needs no lock.
  return [key](const std::string& sealed) { return key->get().open(sealed); };
}

std::string credential_path(const std::string& credential, const std::string& configured_file) {
  if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir != nullptr && *dir != '\0') {
    std::string candidate = std::string(dir).append("/").append(credential);
    if (std::filesystem::exists(candidate)) {
      return candidate;
    }
  }
  return configured_file;
}

std::string secret_key_path(const std::string& configured_key_file) {
  return credential_path("secret.key", configured_key_file);
}

std::string secret_payload(const ConnectionSettings& settings, const std::string& secret) {
  const char* key = settings.auth == "password" ? "password" : "key_passphrase";
  return nlohmann::json{{key, secret}}.dump();
}

void apply_secret_payload(ConnectionSettings& settings, const std::string& payload) {
  const auto json = nlohmann::json::parse(payload, nullptr, false);
  if (!json.is_object()) {
    throw Failure(FailureKind::permanent, "the connection's secret is damaged");
  }
  settings.password = json.value("password", "");
  settings.key_passphrase = json.value("key_passphrase", "");
}

}  // namespace exportd
