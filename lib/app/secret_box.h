// Encryption of connection secrets (an SFTP password, a key passphrase) at
// rest in erp_connections.secret: libsodium's secretbox (XSalsa20-Poly1305)
// under a 32-byte key that lives outside the database.
#pragma once

#include <array>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace exportd {

struct ConnectionSettings;

class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  explicit SecretBox(const std::array<unsigned char, kKeyBytes>& key);
  ~SecretBox();  // wipes the key
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

  // Reads a key file: 32 raw bytes, or 64 hex digits (a final newline is
  // fine). Throws Failure(bad_config) naming the file.
  static std::unique_ptr<SecretBox> from_key_file(const std::string& path);

  // nonce || ciphertext; a fresh random nonce each time.
  std::string seal(const std::string& plain) const;
  // Throws Failure(permanent) when the bytes were not sealed with this key.
  std::string open(const std::string& sealed) const;

 private:
  std::array<unsigned char, kKeyBytes> key_;
};

// Opens connection secrets with the key in `key_path`, read when the first
// secret is opened: a host whose connections have no secrets needs no key
// file. One opener serves every worker thread. A key that cannot be read is a
// transient failure (the operator can fix the file) and is read again next time.
using SecretOpener = std::function<std::string(const std::string& sealed)>;
SecretOpener secret_opener_on_first_use(std::string key_path);

// The file of a credential: $CREDENTIALS_DIRECTORY/`credential` when
// systemd passed one (LoadCredential=), else `configured_file`.
std::string credential_path(const std::string& credential, const std::string& configured_file);

// The key file to use: credential secret.key, else `[secrets] key_file`.
std::string secret_key_path(const std::string& configured_key_file);

// The secret of a connection as stored (before sealing): {"password": ...}
// or {"key_passphrase": ...}. Applied to settings after opening.
std::string secret_payload(const ConnectionSettings& settings, const std::string& secret);
void apply_secret_payload(ConnectionSettings& settings, const std::string& payload);

}  // namespace exportd
