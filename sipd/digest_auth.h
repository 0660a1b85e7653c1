// Digest authentication (RFC 2617, RFC 3261 §22) of the REGISTERs sipmasq
// answers itself as the registrar. The nonce is a timestamp and a serial
// signed with a per-process random key, so it expires by itself; the nonce
// counts of answers already accepted are remembered (bounded), so a captured
// answer cannot be replayed. qop=auth is required. Failed answers are
// counted per source address and per user, and a guesser is refused
// unchecked for a while. Data in, verdict out: no I/O (the password file is
// read by the caller).
#pragma once

#include <osipparser2/osip_parser.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "address.h"
#include "auth_throttle.h"
#include "nonce_counts.h"

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
    Ok,         // authenticated as `user`
    Missing,    // no Authorization for our realm: challenge
    Stale,      // right password, but an old, foreign or replayed nonce: challenge with stale=true
    Failed,     // wrong password, unknown user, or a malformed answer: challenge and log
    Throttled,  // too many failures lately from this source or for this user: refused
                // without the password being checked (403, logged, no challenge)
};

struct AuthResult {
    AuthVerdict verdict = AuthVerdict::Missing;
    std::string user;      // the username the client gave (attacker text: escape it)
    const char* why = "";  // for the log line
};

class DigestAuth {
  public:
    static constexpr int64_t kNonceSeconds = 300;
    // Nonces whose counts are remembered; beyond that the oldest is
    // forgotten and answered stale (never accepted again).
    static constexpr size_t kMaxNonces = 4096;

    // `secret`: random bytes of this process (the nonces' signing key).
    // `shared_password` (proxy_auth_passwd): the password of every user
    // that `passwords` does not list; "" = none.
    DigestAuth(std::string realm, std::unordered_map<std::string, std::string> passwords,
               std::string secret, std::string shared_password = {});

    [[nodiscard]] const std::string& realm() const noexcept { return realm_; }
    [[nodiscard]] size_t users() const noexcept { return passwords_.size(); }

    // "<timestamp hex>.<serial hex>.<HMAC of both>"; `now` is wall-clock
    // seconds. The serial makes each challenge's nonce unique, so two phones
    // challenged in the same second do not share nonce counts.
    [[nodiscard]] std::string make_nonce(int64_t now) const;
    // The value of a WWW-Authenticate header.
    [[nodiscard]] std::string challenge(int64_t now, bool stale) const;
    // Checks the request's Authorization header for our realm, sent from
    // `source`. Its uri must be the Request-URI, or a sip: URI naming us
    // (`own_host`), as SIPp and some phones send for a REGISTER.
    [[nodiscard]] AuthResult check(
        const osip_message_t* req, int64_t now, const SockAddr& source,
        const std::function<bool(std::string_view)>& own_host = {}) const;

  private:
    // When the nonce is ours and fresh: the time it was issued.
    [[nodiscard]] std::optional<int64_t> nonce_issued(std::string_view nonce, int64_t now) const;
    // Counts a failed answer against the source and (if it exists) the user.
    [[nodiscard]] AuthResult failed(const std::string& source_key, std::string user,
                                    const char* why, int64_t now) const;

    std::string realm_;
    std::unordered_map<std::string, std::string> passwords_;
    std::string secret_;
    // What checking learns. Mutable because the proxy holds the checker as
    // const (its settings are replaced whole on reload); single-threaded.
    mutable uint64_t nonce_serial_ = 0;
    mutable NonceCounts nonce_counts_{kNonceSeconds, kMaxNonces};
    mutable AuthThrottle failures_by_source_;
    mutable AuthThrottle failures_by_user_;
    std::string shared_password_;
};

// A quoted-string's content (backslash escapes undone); plain tokens as they are.
[[nodiscard]] std::string unquote(std::string_view text);

}  // namespace sipmasq
