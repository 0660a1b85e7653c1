#include "name_resolver.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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
                                                     const std::string& dns_server, int family,
                                                     int other_family) {
    auto r = std::make_unique<EvdnsResolver>(Key{}, family,
                                             other_family == family ? AF_UNSPEC : other_family);
    r->base_ = base;
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
    // SRV questions go to the same server evdns asks first.
    sockaddr_storage ns{};
    const int ns_len = evdns_base_get_nameserver_addr(r->dns_.get(), 0,
                                                      reinterpret_cast<sockaddr*>(&ns), sizeof ns);
    if (ns_len > 0 && static_cast<size_t>(ns_len) <= sizeof ns)
        r->srv_server_ = SockAddr(reinterpret_cast<sockaddr*>(&ns), static_cast<socklen_t>(ns_len));
    if (!r->srv_server_.valid()) log_warning("DNS: no nameserver for SRV lookups; A/AAAA only");
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

void EvdnsResolver::resolve_address(const std::string& raw_name, Done done) {
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
    if (!ask(raw, family_) && pending_.count(name) != 0)
        finish(name, std::nullopt, "query not sent");
}

bool EvdnsResolver::ask(Lookup* lookup, int family) {
    lookup->family = family;
    // Names in SIP URIs are fully qualified: no search list.
    lookup->request = family == AF_INET6
                          ? evdns_base_resolve_ipv6(dns_.get(), lookup->name.c_str(),
                                                    DNS_QUERY_NO_SEARCH, &on_answer, lookup)
                          : evdns_base_resolve_ipv4(dns_.get(), lookup->name.c_str(),
                                                    DNS_QUERY_NO_SEARCH, &on_answer, lookup);
    return lookup->request != nullptr;
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
    const bool found = result == DNS_ERR_NONE && count > 0 &&
                       ((type == DNS_IPv4_A && lookup->family == AF_INET) ||
                        (type == DNS_IPv6_AAAA && lookup->family == AF_INET6));
    // A name that exists but has no address of our first family: the
    // other one, where the outside has it (within the same time limit).
    if (!found && result != DNS_ERR_NOTEXIST && other_family_ != AF_UNSPEC &&
        lookup->family == family_) {
        log_info("DNS: %s: no %s address; asking for %s", name.c_str(),
                 family_ == AF_INET6 ? "IPv6" : "IPv4", family_ == AF_INET6 ? "IPv4" : "IPv6");
        if (ask(lookup, other_family_)) return;
    }
    if (result != DNS_ERR_NONE) {
        log_notice("DNS: %s: %s", name.c_str(), evdns_err_to_string(result));
        return finish(name, std::nullopt, evdns_err_to_string(result));
    }
    std::optional<SockAddr> addr;
    if (found) addr = SockAddr::from_bytes(lookup->family, addresses, 0);
    if (!addr) return finish(name, std::nullopt, "no address");
    const uint32_t kept = ttl < 0 ? 0 : std::min<uint32_t>(static_cast<uint32_t>(ttl), kMaxTtl);
    log_info("DNS: %s is %s (ttl %u)", name.c_str(), addr->host_string().c_str(), kept);
    remember(name, *addr, kept);
    finish(name, addr, "");
}

std::optional<int64_t> EvdnsResolver::seconds_left(const std::string& name) const {
    const auto c = cache_.find(ascii_lower(name));
    if (c == cache_.end()) return std::nullopt;
    return std::max<int64_t>(0, (c->second.expires_ms - monotonic_ms()) / 1000);
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

void EvdnsResolver::resolve(const std::string& raw_name, Transport transport, Done done) {
    const std::string name = ascii_lower(raw_name);
    // /etc/hosts names are used as they are, as getaddrinfo() would.
    if (hosts_.count(name) != 0 || !srv_server_.valid())
        return resolve_address(name, std::move(done));
    const std::string service = (transport == Transport::Tcp ? "_sip._tcp." : "_sip._udp.") + name;
    const int64_t now = monotonic_ms();
    if (auto c = srv_cache_.find(service); c != srv_cache_.end()) {
        if (c->second.expires_ms > now) return srv_use(name, c->second.records, std::move(done));
        srv_cache_.erase(c);
    }
    if (auto p = srv_pending_.find(service); p != srv_pending_.end()) {
        if (p->second->waiters.size() >= kMaxWaiters) return done(std::nullopt, "too many waiting");
        p->second->waiters.push_back(std::move(done));
        return;
    }
    if (srv_pending_.size() >= kMaxPending) return done(std::nullopt, "too many lookups");
    auto lookup = std::make_unique<SrvLookup>();
    lookup->owner = this;
    lookup->name = name;
    lookup->service = service;
    evutil_secure_rng_get_bytes(&lookup->id, sizeof lookup->id);
    lookup->query = build_srv_query(lookup->id, service);
    // A name SRV cannot carry (odd characters): its address may still do.
    if (lookup->query.empty()) return resolve_address(name, std::move(done));
    lookup->fd =
        UniqueFd(::socket(srv_server_.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    // connect(): the kernel drops datagrams from anyone but the server.
    if (!lookup->fd.valid() ||
        ::connect(lookup->fd.get(), srv_server_.sa(), srv_server_.len()) != 0) {
        log_warning("DNS: SRV socket: %s", std::strerror(errno));
        return resolve_address(name, std::move(done));
    }
    SrvLookup* raw = lookup.get();
    raw->ev.reset(event_new(base_, raw->fd.get(), EV_READ, &on_srv_event, raw));
    if (!raw->ev) return resolve_address(name, std::move(done));
    raw->waiters.push_back(std::move(done));
    srv_pending_.emplace(service, std::move(lookup));
    if (!srv_send(raw)) srv_finish(service, nullptr, 0);
}

bool EvdnsResolver::srv_send(SrvLookup* lookup) {
    ++lookup->tries;
    lookup->deadline_ms = monotonic_ms() + kSrvTryMs;
    if (::send(lookup->fd.get(), lookup->query.data(), lookup->query.size(), 0) < 0) {
        log_notice("DNS: SRV query for %s not sent: %s", lookup->service.c_str(),
                   std::strerror(errno));
        return false;
    }
    const timeval wait{kSrvTryMs / 1000, suseconds_t{kSrvTryMs % 1000} * 1000};
    return event_add(lookup->ev.get(), &wait) == 0;
}

void EvdnsResolver::on_srv_event(evutil_socket_t, short what, void* arg) noexcept {
    auto* lookup = static_cast<SrvLookup*>(arg);
    lookup->owner->srv_event(lookup, what);
}

void EvdnsResolver::srv_event(SrvLookup* lookup, short what) {
    const std::string service = lookup->service;
    if ((what & EV_READ) != 0) {
        for (int i = 0; i < 8; ++i) {  // bounded: a flood cannot hold the loop
            uint8_t buf[1500];
            const ssize_t n = ::recv(lookup->fd.get(), buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
                log_notice("DNS: SRV %s: %s; trying its address", service.c_str(),
                           std::strerror(errno));
                return srv_finish(service, nullptr, 0);
            }
            SrvAnswer answer;
            if (parse_srv_answer(std::span<const uint8_t>(buf, static_cast<size_t>(n)), lookup->id,
                                 service, answer) != 0) {
                log_debug("DNS: SRV %s: a bad or foreign answer ignored", service.c_str());
                continue;
            }
            if (answer.records.empty()) {
                log_info("DNS: no SRV for %s%s; using its address", service.c_str(),
                         answer.nxdomain ? " (NXDOMAIN)" : "");
                return srv_finish(service, &answer.records, kSrvNegativeTtl);
            }
            uint32_t ttl = kMaxTtl;
            for (const SrvRecord& r : answer.records) {
                ttl = std::min(ttl, r.ttl);
                log_info("DNS: SRV %s: %u %u %u %s (ttl %u)", service.c_str(), r.priority, r.weight,
                         r.port, r.target.c_str(), r.ttl);
            }
            return srv_finish(service, &answer.records, ttl);
        }
    }
    const int64_t now = monotonic_ms();
    if (now >= lookup->deadline_ms) {
        if (lookup->tries >= kSrvTries) {
            log_notice("DNS: SRV %s: no answer; trying its address", service.c_str());
            return srv_finish(service, nullptr, 0);
        }
        if (!srv_send(lookup)) srv_finish(service, nullptr, 0);
        return;
    }
    const int64_t left = lookup->deadline_ms - now;
    const timeval wait{static_cast<time_t>(left / 1000),
                       static_cast<suseconds_t>((left % 1000) * 1000)};
    if (event_add(lookup->ev.get(), &wait) != 0) srv_finish(service, nullptr, 0);
}

void EvdnsResolver::srv_finish(const std::string& service, const std::vector<SrvRecord>* records,
                               uint32_t ttl) {
    auto it = srv_pending_.find(service);
    if (it == srv_pending_.end()) return;
    std::unique_ptr<SrvLookup> lookup = std::move(it->second);
    srv_pending_.erase(it);
    const std::string& name = lookup->name;
    const std::vector<SrvRecord> found = records != nullptr ? *records : std::vector<SrvRecord>{};
    if (records != nullptr && ttl > 0) {
        const int64_t now = monotonic_ms();
        if (srv_cache_.size() >= kMaxCache)
            for (auto c = srv_cache_.begin(); c != srv_cache_.end();)
                c = c->second.expires_ms <= now ? srv_cache_.erase(c) : std::next(c);
        if (srv_cache_.size() >= kMaxCache) srv_cache_.clear();
        srv_cache_[service] = {found, now + static_cast<int64_t>(std::min(ttl, kMaxTtl)) * 1000};
    }
    // No answer at all (timeout, refused): the name's own address, uncached.
    for (Done& d : lookup->waiters) srv_use(name, found, std::move(d));
}

void EvdnsResolver::srv_use(const std::string& name, const std::vector<SrvRecord>& records,
                            Done done) {
    if (records.empty()) return resolve_address(name, std::move(done));
    uint32_t random = 0;
    evutil_secure_rng_get_bytes(&random, sizeof random);
    auto order = std::make_shared<const std::vector<SrvRecord>>(order_srv(records, random));
    if (order->empty()) return done(std::nullopt, "no SIP service (SRV)");
    srv_try(std::move(order), 0, std::move(done));
}

// RFC 3263 §4.3: a target whose address does not resolve makes way for the
// next one (a record set fits in one datagram, so this is bounded).
void EvdnsResolver::srv_try(std::shared_ptr<const std::vector<SrvRecord>> order, size_t next,
                            Done done) {
    const SrvRecord& r = (*order)[next];
    const std::string target = r.target;
    resolve_address(target, [this, order, next, done = std::move(done)](
                                std::optional<SockAddr> addr, const char* error) mutable {
        if (addr) {
            addr->set_port((*order)[next].port);
            return done(addr, error);
        }
        if (next + 1 >= order->size()) return done(addr, error);
        log_info("DNS: SRV target %s: %s; trying %s", (*order)[next].target.c_str(), error,
                 (*order)[next + 1].target.c_str());
        srv_try(std::move(order), next + 1, std::move(done));
    });
}

}  // namespace sipmasq
