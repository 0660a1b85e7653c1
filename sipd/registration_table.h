// Registered bindings: public AOR -> the phones' true contacts. A hash table
// with no fixed limit; time is passed in (seconds, wall clock) so expiry is
// testable and survives a restart through the registration store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "address.h"

namespace sipmasq {

enum class BindingMode : uint8_t {
    Registrar,      // sipmasq answered the REGISTER itself
    OutboundProxy,  // a third-party registrar did; we only relayed it
};

[[nodiscard]] const char* binding_mode_name(BindingMode mode) noexcept;

struct Binding {
    std::string aor;           // normalised "user@host" (see normalise_aor)
    std::string contact;       // the phone's true Contact URI
    SockAddr source;           // inside address:port the REGISTER came from
    std::string masq_contact;  // what the outside sees instead of `contact`
    std::string token;         // the key inside masq_contact (contact_token)
    int64_t expires_at = 0;    // absolute, seconds on the caller's clock
    BindingMode mode = BindingMode::Registrar;
    bool provisional = false;  // outbound proxy: waiting for the registrar's 2xx
    std::string call_id;
    uint32_t cseq = 0;

    [[nodiscard]] bool live(int64_t now) const noexcept { return expires_at > now; }
};

// "alice@example.org" from user and host: host lower-cased, user as is
// (user parts are case-sensitive, RFC 3261 §19.1.4).
[[nodiscard]] std::string normalise_aor(std::string_view user, std::string_view host);

// The stable key of a true contact URI inside its masqueraded form.
[[nodiscard]] std::string contact_token(std::string_view true_contact);

class RegistrationTable {
  public:
    enum class Change : uint8_t { Added, Refreshed, Confirmed, Removed, Expired };
    struct Event {
        Change change;
        Binding binding;
    };

    // Adds or refreshes the binding (aor, contact). A refresh keeps nothing
    // of the old one but its place.
    Event upsert(Binding binding);
    // Removes (aor, contact); nullopt if there was none.
    std::optional<Binding> remove(std::string_view aor, std::string_view contact);
    // Contact: * with Expires: 0.
    std::vector<Binding> remove_all(std::string_view aor);
    // The registrar's 2xx for a provisional binding: now it lives until then.
    bool confirm(std::string_view aor, std::string_view contact, int64_t expires_at);

    // Live, confirmed bindings of an AOR, most recently refreshed first.
    [[nodiscard]] std::vector<const Binding*> lookup(std::string_view aor, int64_t now) const;
    // Every binding of an AOR, provisional ones too (for REGISTER answers).
    [[nodiscard]] std::vector<const Binding*> bindings_of(std::string_view aor) const;
    [[nodiscard]] const Binding* find(std::string_view aor, std::string_view contact) const;
    // By the token of a masqueraded contact (the way back in): live only.
    [[nodiscard]] const Binding* find_by_token(std::string_view token, int64_t now) const;

    // Removes and returns what has expired by `now` (for the log lines).
    std::vector<Binding> expire(int64_t now);
    [[nodiscard]] std::optional<int64_t> next_expiry() const;

    [[nodiscard]] size_t size() const noexcept { return count_; }
    [[nodiscard]] std::vector<const Binding*> all() const;
    void clear() noexcept;

  private:
    struct Entry {
        Binding binding;
        uint64_t touched = 0;  // refresh order, newest highest
    };
    void index_add(const Binding& b);
    void index_remove(const Binding& b);

    std::unordered_map<std::string, std::vector<Entry>> by_aor_;
    // token -> AOR (the binding is then found by token within it).
    std::unordered_multimap<std::string, std::string> by_token_;
    size_t count_ = 0;
    uint64_t clock_ = 0;
};

}  // namespace sipmasq
