// Next hops that are names: an asynchronous lookup interface (so SipProxy
// is tested with a fake), and its implementation over libevent's evdns,
// which runs in sipd's one event loop inside the sandbox. The resolver
// configuration (resolv.conf or `dns_server`, /etc/hosts) is read before
// the chroot. RFC 3263 §4.2: SRV `_sip._udp.<name>` or `_sip._tcp.<name>`
// for the transport the request leaves by first (asked by hand, dns_srv.h,
// from a socket of our own to evdns's first nameserver), then A (AAAA when
// the outside is IPv6; on a dual-stack outside, the other when the first
// has none) of the SRV targets in RFC 2782 order until one resolves, or of
// the name. No NAPTR.
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
#include "dns_srv.h"
#include "event_ptr.h"
#include "sip_types.h"
#include "unique_fd.h"

namespace sipmasq {

class NameResolver {
  public:
    // Called exactly once: an address, or nullopt with why. Its port is the
    // SRV record's, or 0 when DNS gave none (the caller's default applies).
    using Done = std::function<void(std::optional<SockAddr> addr, const char* error)>;
    virtual ~NameResolver() = default;
    // A name whose URI had no port: SRV of the transport's service first,
    // then A/AAAA (RFC 3263 §4.2). May call `done` before returning
    // (cached answer, or refused).
    virtual void resolve(const std::string& name, Transport transport, Done done) = 0;
    // The name's own A/AAAA only (a port was given); port 0 in the answer.
    virtual void resolve_address(const std::string& name, Done done) {
        resolve(name, Transport::Udp, std::move(done));
    }
    // Seconds until the cached answer for a name runs out (its TTL, capped);
    // nullopt when none is cached (never looked up, failed, /etc/hosts).
    [[nodiscard]] virtual std::optional<int64_t> seconds_left(const std::string& /*name*/) const {
        return std::nullopt;
    }
    // A next hop: SRV only when its port is the default 5060, since HostPort
    // cannot tell "sip:x" from "sip:x:5060"; else the address alone.
    void resolve_hop(const HostPort& hop, Transport transport, Done done) {
        if (hop.port == 5060) return resolve(hop.host, transport, std::move(done));
        resolve_address(hop.host, std::move(done));
    }
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
    EvdnsResolver(Key, int family, int other_family)
        : family_(family), other_family_(other_family) {}
    static constexpr size_t kMaxPending = 256;   // names being looked up
    static constexpr size_t kMaxWaiters = 64;    // requests held per name
    static constexpr size_t kMaxCache = 1024;    // names remembered
    static constexpr uint32_t kMaxTtl = 3600;    // seconds
    static constexpr int64_t kTimeoutMs = 5000;  // a lookup ends by then
    static constexpr int kSrvTryMs = 2000;       // per SRV query, twice
    static constexpr int kSrvTries = 2;
    static constexpr uint32_t kSrvNegativeTtl = 60;  // "no SRV" is remembered

    // `dns_server` "" = the system's resolv.conf; else that address alone.
    // Reads resolv.conf and /etc/hosts now: call before the sandbox.
    // nullptr (logged) when evdns cannot be set up. Names are looked up in
    // `family` (A or AAAA); with a dual-stack outside, a name that has no
    // address of that family is asked again in `other_family`.
    static std::unique_ptr<EvdnsResolver> create(event_base* base, const std::string& dns_server,
                                                 int family, int other_family = AF_UNSPEC);
    ~EvdnsResolver() override;

    void resolve(const std::string& name, Transport transport, Done done) override;
    void resolve_address(const std::string& name, Done done) override;
    [[nodiscard]] std::optional<int64_t> seconds_left(const std::string& name) const override;

    [[nodiscard]] size_t cached() const noexcept { return cache_.size(); }
    [[nodiscard]] size_t pending() const noexcept { return pending_.size(); }
    [[nodiscard]] size_t srv_cached() const noexcept { return srv_cache_.size(); }
    [[nodiscard]] size_t srv_pending() const noexcept { return srv_pending_.size(); }
    // Where the SRV queries go (evdns's first nameserver); invalid = none.
    [[nodiscard]] const SockAddr& srv_server() const noexcept { return srv_server_; }
    // Tests point the SRV queries elsewhere (a server on loopback).
    void set_srv_server(const SockAddr& server) noexcept { srv_server_ = server; }

  private:
    struct Lookup {
        EvdnsResolver* owner = nullptr;
        std::string name;
        evdns_request* request = nullptr;
        int family = AF_UNSPEC;  // of the question in flight
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
    // Sends the lookup's question in `family`; false when evdns refused it.
    bool ask(Lookup* lookup, int family);
    void finish(const std::string& name, std::optional<SockAddr> addr, const char* error);
    void remember(const std::string& name, const SockAddr& addr, uint32_t ttl);

    // One SRV question in flight: its own socket (a fresh source port).
    struct SrvLookup {
        EvdnsResolver* owner = nullptr;
        std::string name;     // the host name, without the service
        std::string service;  // "_sip._udp.<name>" or "_sip._tcp.<name>": the key
        uint16_t id = 0;
        int tries = 0;
        int64_t deadline_ms = 0;  // of the current try
        std::vector<uint8_t> query;
        UniqueFd fd;
        EventPtr ev;
        std::vector<Done> waiters;
    };
    struct SrvCacheEntry {
        std::vector<SrvRecord> records;  // empty: no SRV, use the name
        int64_t expires_ms;
    };
    static void on_srv_event(evutil_socket_t fd, short what, void* arg) noexcept;
    void srv_event(SrvLookup* lookup, short what);
    [[nodiscard]] bool srv_send(SrvLookup* lookup);
    void srv_finish(const std::string& service, const std::vector<SrvRecord>* records,
                    uint32_t ttl);
    void srv_use(const std::string& name, const std::vector<SrvRecord>& records, Done done);
    // The targets in RFC 2782 order from `next` on: the first whose address
    // resolves, else the last error.
    void srv_try(std::shared_ptr<const std::vector<SrvRecord>> order, size_t next, Done done);

    event_base* base_ = nullptr;
    SockAddr srv_server_;
    // Both by service name ("_sip._tcp.example.com").
    std::unordered_map<std::string, SrvCacheEntry> srv_cache_;
    std::map<std::string, std::unique_ptr<SrvLookup>> srv_pending_;

    int family_;
    int other_family_;  // AF_UNSPEC: one family only
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
