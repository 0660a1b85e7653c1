#include "registration_table.h"

#include <algorithm>

#include "sip_types.h"

namespace sipmasq {

const char* binding_mode_name(BindingMode mode) noexcept {
    return mode == BindingMode::Registrar ? "registrar" : "outbound-proxy";
}

std::string normalise_aor(std::string_view user, std::string_view host) {
    std::string aor(user);
    aor += '@';
    aor += ascii_lower(host);
    return aor;
}

std::string contact_token(std::string_view true_contact) {
    return hex64(stable_hash64(true_contact, 0x736970));
}

void RegistrationTable::index_add(const Binding& b) {
    by_token_.emplace(b.token, b.aor);
}

void RegistrationTable::index_remove(const Binding& b) {
    auto [first, last] = by_token_.equal_range(b.token);
    for (auto it = first; it != last; ++it) {
        if (it->second == b.aor) {
            by_token_.erase(it);
            return;
        }
    }
}

RegistrationTable::Event RegistrationTable::upsert(Binding binding) {
    if (binding.token.empty()) binding.token = contact_token(binding.contact);
    auto& entries = by_aor_[binding.aor];
    for (auto& entry : entries) {
        if (entry.binding.contact == binding.contact) {
            index_remove(entry.binding);
            entry.binding = std::move(binding);
            entry.touched = ++clock_;
            index_add(entry.binding);
            return Event{Change::Refreshed, entry.binding};
        }
    }
    entries.push_back(Entry{std::move(binding), ++clock_});
    ++count_;
    index_add(entries.back().binding);
    return Event{Change::Added, entries.back().binding};
}

std::optional<Binding> RegistrationTable::remove(std::string_view aor, std::string_view contact) {
    auto it = by_aor_.find(std::string(aor));
    if (it == by_aor_.end()) return std::nullopt;
    auto& entries = it->second;
    for (auto e = entries.begin(); e != entries.end(); ++e) {
        if (e->binding.contact == contact) {
            Binding out = std::move(e->binding);
            index_remove(out);
            entries.erase(e);
            --count_;
            if (entries.empty()) by_aor_.erase(it);
            return out;
        }
    }
    return std::nullopt;
}

std::vector<Binding> RegistrationTable::remove_all(std::string_view aor) {
    std::vector<Binding> out;
    auto it = by_aor_.find(std::string(aor));
    if (it == by_aor_.end()) return out;
    for (auto& entry : it->second) {
        index_remove(entry.binding);
        out.push_back(std::move(entry.binding));
    }
    count_ -= it->second.size();
    by_aor_.erase(it);
    return out;
}

bool RegistrationTable::confirm(std::string_view aor, std::string_view contact,
                                int64_t expires_at) {
    auto it = by_aor_.find(std::string(aor));
    if (it == by_aor_.end()) return false;
    for (auto& entry : it->second) {
        if (entry.binding.contact == contact) {
            entry.binding.provisional = false;
            entry.binding.expires_at = expires_at;
            entry.touched = ++clock_;
            return true;
        }
    }
    return false;
}

std::vector<const Binding*> RegistrationTable::lookup(std::string_view aor, int64_t now) const {
    std::vector<const Entry*> found;
    auto it = by_aor_.find(std::string(aor));
    if (it != by_aor_.end()) {
        for (const auto& entry : it->second)
            if (!entry.binding.provisional && entry.binding.live(now)) found.push_back(&entry);
    }
    std::sort(found.begin(), found.end(),
              [](const Entry* a, const Entry* b) { return a->touched > b->touched; });
    std::vector<const Binding*> out;
    out.reserve(found.size());
    for (const Entry* e : found) out.push_back(&e->binding);
    return out;
}

std::vector<const Binding*> RegistrationTable::bindings_of(std::string_view aor) const {
    std::vector<const Binding*> out;
    auto it = by_aor_.find(std::string(aor));
    if (it != by_aor_.end())
        for (const auto& entry : it->second) out.push_back(&entry.binding);
    return out;
}

const Binding* RegistrationTable::find(std::string_view aor, std::string_view contact) const {
    auto it = by_aor_.find(std::string(aor));
    if (it == by_aor_.end()) return nullptr;
    for (const auto& entry : it->second)
        if (entry.binding.contact == contact) return &entry.binding;
    return nullptr;
}

const Binding* RegistrationTable::find_by_token(std::string_view token, int64_t now) const {
    auto [first, last] = by_token_.equal_range(std::string(token));
    for (auto it = first; it != last; ++it) {
        auto aor_it = by_aor_.find(it->second);
        if (aor_it == by_aor_.end()) continue;
        for (const auto& entry : aor_it->second) {
            const Binding& b = entry.binding;
            if (b.token == token && !b.provisional && b.live(now)) return &b;
        }
    }
    return nullptr;
}

std::vector<Binding> RegistrationTable::expire(int64_t now) {
    std::vector<Binding> out;
    for (auto it = by_aor_.begin(); it != by_aor_.end();) {
        auto& entries = it->second;
        for (auto e = entries.begin(); e != entries.end();) {
            if (!e->binding.live(now)) {
                index_remove(e->binding);
                out.push_back(std::move(e->binding));
                e = entries.erase(e);
                --count_;
            } else {
                ++e;
            }
        }
        if (entries.empty())
            it = by_aor_.erase(it);
        else
            ++it;
    }
    return out;
}

std::optional<int64_t> RegistrationTable::next_expiry() const {
    std::optional<int64_t> next;
    for (const auto& [aor, entries] : by_aor_)
        for (const auto& entry : entries)
            if (!next || entry.binding.expires_at < *next) next = entry.binding.expires_at;
    return next;
}

std::vector<const Binding*> RegistrationTable::all() const {
    std::vector<const Binding*> out;
    out.reserve(count_);
    for (const auto& [aor, entries] : by_aor_)
        for (const auto& entry : entries) out.push_back(&entry.binding);
    return out;
}

void RegistrationTable::clear() noexcept {
    by_aor_.clear();
    by_token_.clear();
    count_ = 0;
}

}  // namespace sipmasq
