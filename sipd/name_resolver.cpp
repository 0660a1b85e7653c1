#include "name_resolver.h"

#include <arpa/inet.h>
#include <event2/util.h>

#include <fstream>
#include <sstream>

#include "clock.h"
#include "log.h"
#include "sip_types.h"

namespace sipmasq {

std::unordered_map<std::string, SockAddr> parse_hosts(std::string_view text, int family) {
    std::unordered_map<std::string, SockAddr> out;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream fields(line);
        std::string addr_text, name;
        if (!(fields >> addr_text)) continue;
        const auto addr = SockAddr::parse(addr_text);
        if (!addr || addr->family() != family) continue;
        while (fields >> name) out.emplace(ascii_lower(name), *addr);  // the first line wins
    }
    return out;
}

std::unique_ptr<EvdnsResolver> EvdnsResolver::create(event_base* base,
                                                     const std::string& dns_server, int family) {
    auto r = std::make_unique<EvdnsResolver>(Key{}, family);
    // Seeds libevent's RNG (the query ids) while /dev/urandom is reachable.
    if (evutil_secure_rng_init() != 0) log_warning("libevent's RNG could not be seeded");
    r->dns_.reset(evdns_base_new(base, dns_server.empty() ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0));
    if (!r->dns_) {
        log_error("DNS: cannot read the resolver configuration; names will not resolve");
        return nullptr;
    }
    if (!dns_server.empty() &&
        evdns_base_nameserver_ip_add(r->dns_.get(), dns_server.c_str()) != 0) {
        log_error("DNS: dns_server %s is unusable", dns_server.c_str());
        return nullptr;
    }
    // Each try 2 s, twice: a lookup ends within kTimeoutMs.
    (void)evdns_base_set_option(r->dns_.get(), "timeout:", "2");
    (void)evdns_base_set_option(r->dns_.get(), "attempts:", "2");
    std::ifstream hosts("/etc/hosts");
    std::ostringstream text;
    if (hosts && (text << hosts.rdbuf())) r->hosts_ = parse_hosts(text.str(), family);
    r->sweep_.reset(event_new(base, -1, EV_PERSIST, &on_sweep, r.get()));
    const timeval second{1, 0};
    if (!r->sweep_ || event_add(r->sweep_.get(), &second) != 0) return nullptr;
    log_info("DNS: %d nameserver(s)%s, %zu names from /etc/hosts",
             evdns_base_count_nameservers(r->dns_.get()),
             dns_server.empty() ? " from resolv.conf" : " (dns_server)", r->hosts_.size());
    return r;
}

EvdnsResolver::~EvdnsResolver() {
    // evdns_base_free(.., 0) drops the requests without calling back.
    dns_.reset();
}

void EvdnsResolver::resolve(const std::string& raw_name, Done done) {
    const std::string name = ascii_lower(raw_name);
    if (auto h = hosts_.find(name); h != hosts_.end()) return done(h->second, "");
    const int64_t now = monotonic_ms();
    if (auto c = cache_.find(name); c != cache_.end()) {
        if (c->second.expires_ms > now) return done(c->second.addr, "");
        cache_.erase(c);
    }
    if (auto p = pending_.find(name); p != pending_.end()) {
        if (p->second->waiters.size() >= kMaxWaiters) return done(std::nullopt, "too many waiting");
        p->second->waiters.push_back(std::move(done));
        return;
    }
    if (pending_.size() >= kMaxPending) return done(std::nullopt, "too many lookups");
    auto lookup = std::make_unique<Lookup>();
    lookup->owner = this;
    lookup->name = name;
    lookup->started_ms = now;
    lookup->waiters.push_back(std::move(done));
    Lookup* raw = lookup.get();
    pending_.emplace(name, std::move(lookup));
    // Names in SIP URIs are fully qualified: no search list.
    raw->request = family_ == AF_INET6
                       ? evdns_base_resolve_ipv6(dns_.get(), name.c_str(), DNS_QUERY_NO_SEARCH,
                                                 &on_answer, raw)
                       : evdns_base_resolve_ipv4(dns_.get(), name.c_str(), DNS_QUERY_NO_SEARCH,
                                                 &on_answer, raw);
    if (raw->request == nullptr && pending_.count(name) != 0)
        finish(name, std::nullopt, "query not sent");
}

void EvdnsResolver::on_answer(int result, char type, int count, int ttl, void* addresses,
                              void* arg) noexcept {
    auto* lookup = static_cast<Lookup*>(arg);
    lookup->owner->answer(lookup, result, type, count, ttl, addresses);
}

void EvdnsResolver::answer(Lookup* lookup, int result, char type, int count, int ttl,
                           const void* addresses) {
    if (orphans_.erase(lookup) != 0) return;  // its waiters had their answer
    const std::string name = lookup->name;
    if (result != DNS_ERR_NONE) {
        log_notice("DNS: %s: %s", name.c_str(), evdns_err_to_string(result));
        return finish(name, std::nullopt, evdns_err_to_string(result));
    }
    std::optional<SockAddr> addr;
    if (type == DNS_IPv4_A && count > 0 && family_ == AF_INET)
        addr = SockAddr::from_bytes(AF_INET, addresses, 0);
    else if (type == DNS_IPv6_AAAA && count > 0 && family_ == AF_INET6)
        addr = SockAddr::from_bytes(AF_INET6, addresses, 0);
    if (!addr) return finish(name, std::nullopt, "no address");
    const uint32_t kept = ttl < 0 ? 0 : std::min<uint32_t>(static_cast<uint32_t>(ttl), kMaxTtl);
    log_info("DNS: %s is %s (ttl %u)", name.c_str(), addr->host_string().c_str(), kept);
    remember(name, *addr, kept);
    finish(name, addr, "");
}

void EvdnsResolver::remember(const std::string& name, const SockAddr& addr, uint32_t ttl) {
    if (ttl == 0) return;
    const int64_t now = monotonic_ms();
    if (cache_.size() >= kMaxCache)
        for (auto it = cache_.begin(); it != cache_.end();)
            it = it->second.expires_ms <= now ? cache_.erase(it) : std::next(it);
    if (cache_.size() >= kMaxCache) cache_.clear();  // a flood of names: start over
    cache_[name] = {addr, now + static_cast<int64_t>(ttl) * 1000};
}

void EvdnsResolver::finish(const std::string& name, std::optional<SockAddr> addr,
                           const char* error) {
    auto it = pending_.find(name);
    if (it == pending_.end()) return;
    std::unique_ptr<Lookup> lookup = std::move(it->second);
    pending_.erase(it);
    for (Done& d : lookup->waiters) d(addr, error);
}

void EvdnsResolver::on_sweep(evutil_socket_t, short, void* arg) noexcept {
    auto* self = static_cast<EvdnsResolver*>(arg);
    const int64_t now = monotonic_ms();
    std::vector<std::string> late;
    for (const auto& [name, lookup] : self->pending_)
        if (now - lookup->started_ms > kTimeoutMs) late.push_back(name);
    for (const std::string& name : late) {
        auto it = self->pending_.find(name);
        std::unique_ptr<Lookup> lookup = std::move(it->second);
        self->pending_.erase(it);
        log_notice("DNS: %s: no answer within %lld ms", name.c_str(),
                   static_cast<long long>(kTimeoutMs));
        std::vector<Done> waiters = std::move(lookup->waiters);
        Lookup* raw = lookup.get();
        self->orphans_.emplace(raw, std::move(lookup));
        for (Done& d : waiters) d(std::nullopt, "timeout");
    }
}

}  // namespace sipmasq
