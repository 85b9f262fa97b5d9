// Owning handles for libssh's C objects: each is freed by its own deleter on
// every path, a thrown exception included, so no code frees one by hand.
#pragma once

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <memory>
#include <type_traits>

namespace exportd {

namespace libssh_detail {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* handle) const noexcept {
    Free(handle);
  }
};

// ssh_disconnect before ssh_free: the server is told, and the socket closed
// where libssh owns it.
inline void disconnect_and_free(ssh_session session) noexcept {
  ssh_disconnect(session);
  ssh_free(session);
}

// A deleter cannot report a failed close: where one matters, the caller
// releases the handle and closes it itself.
inline void close_file(sftp_file file) noexcept {
  sftp_close(file);
}

inline void close_dir(sftp_dir dir) noexcept {
  sftp_closedir(dir);
}

inline void clean_hash(unsigned char* hash) noexcept {
  ssh_clean_pubkey_hash(&hash);
}

template <typename Handle, auto Free>
using Owned = std::unique_ptr<std::remove_pointer_t<Handle>, Deleter<Free>>;

}  // namespace libssh_detail

using SshSessionHandle = libssh_detail::Owned<ssh_session, libssh_detail::disconnect_and_free>;
using SftpSessionHandle = libssh_detail::Owned<sftp_session, sftp_free>;
using SftpFileHandle = libssh_detail::Owned<sftp_file, libssh_detail::close_file>;
using SftpDirHandle = libssh_detail::Owned<sftp_dir, libssh_detail::close_dir>;
using SftpAttributesHandle = libssh_detail::Owned<sftp_attributes, sftp_attributes_free>;
using SshKeyHandle = libssh_detail::Owned<ssh_key, ssh_key_free>;
using SshHashHandle = libssh_detail::Owned<unsigned char*, libssh_detail::clean_hash>;
using SshCharsHandle = libssh_detail::Owned<char*, ssh_string_free_char>;

}  // namespace exportd
