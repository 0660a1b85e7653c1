// Contact masquerading: an inside phone's Contact URI leaves as
// sip:<user>@<outside host>:<port>;smq=<token> and is restored from the
// token on the way back in. Tokens are a stable hash of the true URI, so a
// registered phone's dialog contact and its binding share one.
#pragma once

#include <osipparser2/osip_parser.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "address.h"
#include "registration_table.h"
#include "sip_types.h"

namespace sipmasq {

inline constexpr const char* kMasqParam = "smq";

// Dialog contacts of inside phones seen on the way out (registered or not).
class ContactMap {
  public:
    struct Entry {
        std::string contact;  // the true URI
        SockAddr source;      // where the phone sent from
        int64_t last_used = 0;
    };
    // Returns the token for `contact`.
    std::string remember(std::string_view contact, const SockAddr& source, int64_t now);
    [[nodiscard]] const Entry* find(std::string_view token) const;
    void touch(std::string_view token, int64_t now);
    // Forgets entries unused since before `cutoff`; returns how many.
    size_t expire(int64_t cutoff);
    [[nodiscard]] size_t size() const noexcept { return map_.size(); }
    // Persistence: every entry by token, and putting one back as it was.
    [[nodiscard]] const std::unordered_map<std::string, Entry>& entries() const noexcept {
        return map_;
    }
    void restore(std::string token, Entry entry) {
        if (map_.size() < capacity_) map_[std::move(token)] = std::move(entry);
    }
    // At most this many; a new contact beyond replaces the one unused longest.
    void set_capacity(size_t capacity) noexcept { capacity_ = capacity == 0 ? 1 : capacity; }
    [[nodiscard]] size_t capacity() const noexcept { return capacity_; }

  private:
    std::unordered_map<std::string, Entry> map_;
    size_t capacity_ = 16384;
};

// "sip:alice@203.0.113.1:5060;smq=<token>".
[[nodiscard]] std::string make_masq_uri(std::string_view user, const HostPort& outside,
                                        std::string_view token);

// The token of a URI that names us and carries smq=; nullopt otherwise.
[[nodiscard]] std::optional<std::string> masq_token(const osip_uri_t* uri);

// The true contact for a token: dialog map first, then live bindings.
[[nodiscard]] std::optional<std::string> resolve_token(std::string_view token,
                                                       const ContactMap& map,
                                                       const RegistrationTable& table, int64_t now);

// Replaces every Contact URI (not "*") by its masqueraded form. Returns how
// many were replaced, or -1 when one could not be.
[[nodiscard]] int masquerade_contacts(osip_message_t* msg, const HostPort& outside, ContactMap& map,
                                      const SockAddr& source, int64_t now);

// Puts back the true URI in every Contact carrying one of our tokens.
// Returns how many were restored.
int restore_contacts(osip_message_t* msg, const HostPort& outside, const ContactMap& map,
                     const RegistrationTable& table, int64_t now);

// Replaces a Request-URI that is our masqueraded contact by the true one.
// false when it is not ours or the token is unknown.
[[nodiscard]] bool restore_request_uri(osip_message_t* req, const HostPort& outside,
                                       const ContactMap& map, const RegistrationTable& table,
                                       int64_t now);

}  // namespace sipmasq
