// Next hops that are names: an asynchronous lookup interface (so SipProxy
// is tested with a fake), and its implementation over libevent's evdns,
// which runs in sipd's one event loop inside the sandbox. The resolver
// configuration (resolv.conf or `dns_server`, /etc/hosts) is read before
// the chroot. A records only (AAAA when the outside is IPv6); no SRV/NAPTR.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "address.h"
#include "event_ptr.h"

namespace sipmasq {

class NameResolver {
  public:
    // Called exactly once: an address (port 0), or nullopt with why.
    using Done = std::function<void(std::optional<SockAddr> addr, const char* error)>;
    virtual ~NameResolver() = default;
    // May call `done` before returning (cached answer, or refused).
    virtual void resolve(const std::string& name, Done done) = 0;
};

struct EvdnsDeleter {
    void operator()(evdns_base* d) const noexcept { evdns_base_free(d, 0); }
};

class EvdnsResolver final : public NameResolver {
  public:
    // Made by create() only (the passkey keeps the constructor its own).
    class Key {
        friend class EvdnsResolver;
        Key() = default;
    };
    EvdnsResolver(Key, int family) : family_(family) {}
    static constexpr size_t kMaxPending = 256;   // names being looked up
    static constexpr size_t kMaxWaiters = 64;    // requests held per name
    static constexpr size_t kMaxCache = 1024;    // names remembered
    static constexpr uint32_t kMaxTtl = 3600;    // seconds
    static constexpr int64_t kTimeoutMs = 5000;  // a lookup ends by then

    // `dns_server` "" = the system's resolv.conf; else that address alone.
    // Reads resolv.conf and /etc/hosts now: call before the sandbox.
    // nullptr (logged) when evdns cannot be set up.
    static std::unique_ptr<EvdnsResolver> create(event_base* base, const std::string& dns_server,
                                                 int family);
    ~EvdnsResolver() override;

    void resolve(const std::string& name, Done done) override;

    [[nodiscard]] size_t cached() const noexcept { return cache_.size(); }
    [[nodiscard]] size_t pending() const noexcept { return pending_.size(); }

  private:
    struct Lookup {
        EvdnsResolver* owner = nullptr;
        std::string name;
        evdns_request* request = nullptr;
        int64_t started_ms = 0;
        std::vector<Done> waiters;
    };
    struct CacheEntry {
        SockAddr addr;
        int64_t expires_ms;
    };

    static void on_answer(int result, char type, int count, int ttl, void* addresses,
                          void* arg) noexcept;
    static void on_sweep(evutil_socket_t, short, void* arg) noexcept;
    void answer(Lookup* lookup, int result, char type, int count, int ttl, const void* addresses);
    void finish(const std::string& name, std::optional<SockAddr> addr, const char* error);
    void remember(const std::string& name, const SockAddr& addr, uint32_t ttl);

    int family_;
    std::unique_ptr<evdns_base, EvdnsDeleter> dns_;
    std::unordered_map<std::string, SockAddr> hosts_;  // /etc/hosts, read at start
    std::unordered_map<std::string, CacheEntry> cache_;
    std::map<std::string, std::unique_ptr<Lookup>> pending_;
    // Lookups past kTimeoutMs whose waiters were answered; evdns still
    // holds them and calls back once (then they are freed).
    std::map<Lookup*, std::unique_ptr<Lookup>> orphans_;
    EventPtr sweep_;
};

// /etc/hosts text: lower-case name -> its first address of `family`.
[[nodiscard]] std::unordered_map<std::string, SockAddr> parse_hosts(std::string_view text,
                                                                    int family);

}  // namespace sipmasq
