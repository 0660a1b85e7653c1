// Digest authentication (RFC 2617, RFC 3261 §22) of the REGISTERs sipmasq
// answers itself as the registrar. The nonce is a timestamp signed with a
// per-process random key, so it needs no table and expires by itself.
// Data in, verdict out: no I/O (the password file is read by the caller).
#pragma once

#include <osipparser2/osip_parser.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sipmasq {

// MD5 (libosip2's RFC 1321 code) as 32 lower-case hex digits.
[[nodiscard]] std::string md5_hex(std::string_view data);
// HMAC-MD5 (RFC 2104) as hex.
[[nodiscard]] std::string hmac_md5_hex(std::string_view key, std::string_view data);

// siproxd's password file: "username password" per line, '#' comments,
// blank lines ignored. Lines without both fields are counted in `bad_lines`.
[[nodiscard]] std::unordered_map<std::string, std::string> parse_password_file(
    std::string_view text, size_t* bad_lines = nullptr);

enum class AuthVerdict : uint8_t {
    Ok,       // authenticated as `user`
    Missing,  // no Authorization for our realm: challenge
    Stale,    // right password, but an old or foreign nonce: challenge with stale=true
    Failed,   // wrong password, unknown user, or a malformed answer: challenge and log
};

struct AuthResult {
    AuthVerdict verdict = AuthVerdict::Missing;
    std::string user;      // the username the client gave (attacker text: escape it)
    const char* why = "";  // for the log line
};

class DigestAuth {
  public:
    static constexpr int64_t kNonceSeconds = 300;

    // `secret`: random bytes of this process (the nonces' signing key).
    // `shared_password` (proxy_auth_passwd): the password of every user
    // that `passwords` does not list; "" = none.
    DigestAuth(std::string realm, std::unordered_map<std::string, std::string> passwords,
               std::string secret, std::string shared_password = {});

    [[nodiscard]] const std::string& realm() const noexcept { return realm_; }
    [[nodiscard]] size_t users() const noexcept { return passwords_.size(); }

    // "<timestamp hex>.<HMAC of it>"; `now` is wall-clock seconds.
    [[nodiscard]] std::string make_nonce(int64_t now) const;
    // The value of a WWW-Authenticate header.
    [[nodiscard]] std::string challenge(int64_t now, bool stale) const;
    // Checks the request's Authorization header for our realm. Its uri must
    // be the Request-URI, or a sip: URI naming us (`own_host`), as SIPp and
    // some phones send for a REGISTER.
    [[nodiscard]] AuthResult check(
        const osip_message_t* req, int64_t now,
        const std::function<bool(std::string_view)>& own_host = {}) const;

  private:
    [[nodiscard]] bool nonce_fresh(std::string_view nonce, int64_t now) const;

    std::string realm_;
    std::unordered_map<std::string, std::string> passwords_;
    std::string secret_;
    std::string shared_password_;
};

// A quoted-string's content (backslash escapes undone); plain tokens as they are.
[[nodiscard]] std::string unquote(std::string_view text);

}  // namespace sipmasq
