#include "digest_auth.h"

#include <osipparser2/osip_md5.h>

#include <charconv>
#include <cstdio>

#include "osip_ptr.h"
#include "sip_types.h"

namespace sipmasq {

namespace {

std::string to_hex(const unsigned char* bytes, size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0xf];
    }
    return out;
}

void md5_update(osip_MD5_CTX& ctx, std::string_view data) {
    // libosip2's prototype is not const-correct; it only reads the input.
    auto* p = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data()));
    osip_MD5Update(&ctx, p, static_cast<unsigned int>(data.size()));
}

std::string md5_raw(std::string_view a, std::string_view b = {}) {
    osip_MD5_CTX ctx;
    osip_MD5Init(&ctx);
    md5_update(ctx, a);
    md5_update(ctx, b);
    unsigned char digest[16];
    osip_MD5Final(digest, &ctx);
    return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

// Compares without stopping at the first difference.
bool equal_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The same SIP resource: scheme, user, host (case-insensitive) and port.
bool same_uri(std::string_view digest_uri, const osip_uri_t* req_uri) {
    OsipUriPtr u = parse_uri(digest_uri);
    if (u == nullptr || req_uri == nullptr) return false;
    return iequals(osip_sv(u->scheme), osip_sv(req_uri->scheme)) &&
           osip_sv(u->username) == osip_sv(req_uri->username) &&
           iequals(osip_sv(u->host), osip_sv(req_uri->host)) &&
           parse_sip_port(osip_sv(u->port)) == parse_sip_port(osip_sv(req_uri->port));
}

bool names_us(std::string_view digest_uri, const std::function<bool(std::string_view)>& own_host) {
    OsipUriPtr u = parse_uri(digest_uri);
    return u != nullptr && iequals(osip_sv(u->scheme), "sip") && u->host != nullptr &&
           own_host(u->host);
}

AuthResult result(AuthVerdict v, std::string user, const char* why) {
    AuthResult r;
    r.verdict = v;
    r.user = std::move(user);
    r.why = why;
    return r;
}

}  // namespace

std::string md5_hex(std::string_view data) {
    const std::string raw = md5_raw(data);
    return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string hmac_md5_hex(std::string_view key, std::string_view data) {
    constexpr size_t kBlock = 64;
    std::string k(key.size() > kBlock ? md5_raw(key) : std::string(key));
    k.resize(kBlock, '\0');
    std::string ipad(kBlock, '\0'), opad(kBlock, '\0');
    for (size_t i = 0; i < kBlock; ++i) {
        ipad[i] = static_cast<char>(k[i] ^ 0x36);
        opad[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    const std::string raw = md5_raw(opad, md5_raw(ipad, data));
    return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::unordered_map<std::string, std::string> parse_password_file(std::string_view text,
                                                                 size_t* bad_lines) {
    std::unordered_map<std::string, std::string> out;
    size_t bad = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        const size_t sp = line.find_first_of(" \t");
        if (sp == std::string_view::npos) {
            ++bad;
            continue;
        }
        const std::string_view user = line.substr(0, sp);
        const std::string_view password = trim(line.substr(sp));
        if (password.empty()) {
            ++bad;
            continue;
        }
        out[std::string(user)] = std::string(password);
    }
    if (bad_lines != nullptr) *bad_lines = bad;
    return out;
}

std::string unquote(std::string_view text) {
    text = trim(text);
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::string(text);
    text = text.substr(1, text.size() - 2);
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        out += text[i];
    }
    return out;
}

DigestAuth::DigestAuth(std::string realm, std::unordered_map<std::string, std::string> passwords,
                       std::string secret, std::string shared_password)
    : realm_(std::move(realm)),
      passwords_(std::move(passwords)),
      secret_(std::move(secret)),
      shared_password_(std::move(shared_password)) {}

std::string DigestAuth::make_nonce(int64_t now) const {
    char signed_part[34];
    (void)std::snprintf(signed_part, sizeof signed_part, "%016llx.%016llx",
                        static_cast<unsigned long long>(now),
                        static_cast<unsigned long long>(++nonce_serial_));
    return std::string(signed_part) + "." + hmac_md5_hex(secret_, signed_part);
}

std::optional<int64_t> DigestAuth::nonce_issued(std::string_view nonce, int64_t now) const {
    constexpr size_t kSigned = 16 + 1 + 16;
    if (nonce.size() != kSigned + 1 + 32 || nonce[16] != '.' || nonce[kSigned] != '.')
        return std::nullopt;
    if (!equal_constant_time(nonce.substr(kSigned + 1),
                             hmac_md5_hex(secret_, nonce.substr(0, kSigned))))
        return std::nullopt;
    const std::string_view ts = nonce.substr(0, 16);
    unsigned long long t = 0;
    const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t, 16);
    if (ec != std::errc() || end != ts.data() + ts.size()) return std::nullopt;
    const auto issued = static_cast<int64_t>(t);
    if (issued > now + 5 || now - issued > kNonceSeconds) return std::nullopt;
    return issued;
}

AuthResult DigestAuth::failed(const std::string& source_key, std::string user, const char* why,
                              int64_t now) const {
    failures_by_source_.failure(source_key, now);
    // Only real users are counted by name: made-up names would push them out.
    if (passwords_.count(user) != 0) failures_by_user_.failure(user, now);
    return result(AuthVerdict::Failed, std::move(user), why);
}

std::string DigestAuth::challenge(int64_t now, bool stale) const {
    std::string realm;
    for (char c : realm_) {
        if (c == '"' || c == '\\') realm += '\\';
        realm += c;
    }
    return "Digest realm=\"" + realm + "\", nonce=\"" + make_nonce(now) +
           "\", qop=\"auth\", algorithm=MD5" + (stale ? ", stale=true" : "");
}

AuthResult DigestAuth::check(const osip_message_t* req, int64_t now, const SockAddr& source,
                             const std::function<bool(std::string_view)>& own_host) const {
    // The first Authorization for our realm (a phone may carry others).
    osip_authorization_t* auth = nullptr;
    for (int i = 0;; ++i) {
        osip_authorization_t* a = nullptr;
        if (osip_message_get_authorization(req, i, &a) < 0 || a == nullptr) break;
        if (unquote(osip_sv(a->realm)) == realm_) {
            auth = a;
            break;
        }
    }
    if (auth == nullptr) return result(AuthVerdict::Missing, "", "no credentials");
    std::string user = unquote(osip_sv(auth->username));
    // The port does not count: a guesser may use any number of them.
    const std::string source_key = source.valid() ? source.host_string() : std::string("-");
    // Before any password is compared: a guesser gets no answer to learn from.
    if (failures_by_source_.blocked(source_key, now) ||
        (passwords_.count(user) != 0 && failures_by_user_.blocked(user, now)))
        return result(AuthVerdict::Throttled, user, "too many failures");
    if (!iequals(osip_sv(auth->auth_type), "Digest"))
        return failed(source_key, user, "not Digest", now);
    const std::string algorithm = unquote(osip_sv(auth->algorithm));
    if (!algorithm.empty() && !iequals(algorithm, "MD5"))
        return failed(source_key, user, "algorithm not MD5", now);
    const std::string nonce = unquote(osip_sv(auth->nonce));
    const std::string uri = unquote(osip_sv(auth->uri));
    const std::string response = ascii_lower(unquote(osip_sv(auth->response)));
    const std::string qop = unquote(osip_sv(auth->message_qop));
    const std::string nc = unquote(osip_sv(auth->nonce_count));
    const std::string cnonce = unquote(osip_sv(auth->cnonce));
    if (user.empty() || nonce.empty() || uri.empty() || response.size() != 32)
        return failed(source_key, user, "incomplete credentials", now);
    // RFC 2069 answers (no qop) carry no nonce count, so they could be
    // replayed: we offer qop=auth only, and require it.
    if (qop.empty()) return failed(source_key, user, "no qop", now);
    if (!iequals(qop, "auth") || cnonce.empty())
        return failed(source_key, user, "unsupported qop", now);
    // nc: exactly 8 hex digits (RFC 2617 §3.2.2), and never 0.
    uint32_t count = 0;
    if (nc.size() != 8 ||
        std::from_chars(nc.data(), nc.data() + nc.size(), count, 16).ptr != nc.data() + nc.size() ||
        count == 0)
        return failed(source_key, user, "bad nonce count", now);
    if (!same_uri(uri, req->req_uri) && !(own_host && names_us(uri, own_host)))
        return failed(source_key, user, "uri is not the Request-URI", now);
    // One may register only the AOR of the name one authenticated as.
    if (req->to == nullptr || req->to->url == nullptr || osip_sv(req->to->url->username) != user)
        return failed(source_key, user, "username is not the To user", now);
    const auto pw = passwords_.find(user);
    if (pw == passwords_.end() && shared_password_.empty())
        return failed(source_key, user, "unknown user", now);
    const std::string& password = pw != passwords_.end() ? pw->second : shared_password_;

    const std::string ha1 = md5_hex(user + ":" + realm_ + ":" + password);
    const std::string ha2 = md5_hex(std::string(osip_sv(req->sip_method)) + ":" + uri);
    const std::string expected =
        md5_hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    if (!equal_constant_time(expected, response))
        return failed(source_key, user, "wrong password", now);
    // The password is right; only the nonce may be old, another process's,
    // or used before with this count (a replay, or a retransmission).
    const std::optional<int64_t> issued = nonce_issued(nonce, now);
    if (!issued) return result(AuthVerdict::Stale, user, "stale nonce");
    switch (nonce_counts_.use(nonce, *issued, count, now)) {
        case NonceCounts::Use::Accepted:
            break;
        case NonceCounts::Use::Replayed:
            return result(AuthVerdict::Stale, user, "nonce count not increased");
        case NonceCounts::Use::Forgotten:
            return result(AuthVerdict::Stale, user, "nonce forgotten");
    }
    return result(AuthVerdict::Ok, user, "");
}

}  // namespace sipmasq
