// The SIP proxy of sipmasq: one datagram, the side it arrived on and its
// source in; datagrams to send out (through the Sender), table updates and
// media requests (through the MediaLink). Orders the engine modules as
// RFC 3261 §16 does; no sockets here, so it is tested on messages.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "address.h"
#include "contact_masq.h"
#include "digest_auth.h"
#include "media_link.h"
#include "name_resolver.h"
#include "osip_ptr.h"
#include "rate_limit.h"
#include "registrar.h"
#include "registration_table.h"
#include "request_routing.h"
#include "sip_types.h"

namespace sipmasq {

struct SipProxySettings {
    RoutingPolicy policy;
    RegistrarSettings registrar;
    SockAddr inside_local;        // the inside socket's address (relay address inside)
    SockAddr outside_local;       // the outside socket's address (relay binds here)
    SockAddr outside_advertised;  // what SDP says outside (host_outbound), port ignored
    // Next hops that are names; nullptr: numeric next hops only (503).
    NameResolver* resolver = nullptr;
    // Registrar mode: REGISTERs must authenticate when set (proxy_auth_realm).
    std::shared_ptr<const DigestAuth> auth;
    // Dialog contacts unused this long are forgotten.
    int64_t contact_idle_seconds = 4 * 3600;
};

// One media stream of a call and its forward in rtpd.
struct CallStream {
    uint32_t id = 0;  // 0: no forward (port 0, or not started)
    SockAddr inside_peer;
    SockAddr outside_peer;
    uint16_t inside_port = 0;  // bound by rtpd
    uint16_t outside_port = 0;
    bool hold = false;
};

struct Call {
    std::string call_id;
    std::string from;
    std::string to;
    SockAddr inside_addr;  // the inside phone's signalling address
    std::vector<CallStream> streams;
    bool established = false;  // a 2xx to the INVITE went through
    bool logged_start = false;
    int64_t created = 0;  // wall-clock seconds, for calls never answered
};

class SipProxy {
  public:
    using Sender = std::function<void(Side side, const SockAddr& dest, std::string_view data)>;

    SipProxy(SipProxySettings settings, MediaLink& media, Sender sender);

    // `now` is wall-clock seconds (registrations outlive the process).
    void handle_datagram(std::string_view data, Side arrival, const SockAddr& source, int64_t now);

    // Timers: expire bindings and dialog contacts (logs each expiry).
    void expire(int64_t now);
    // rtpd ended a forward on its own.
    void on_media_timeout(uint32_t id, std::string_view reason);
    // After a sipd restart: a forward rtpd still holds (LIST_FWD).
    void adopt_forward(uint32_t id, const MediaStart& entry);
    // After an rtpd restart: every forward with its ports, to start again.
    [[nodiscard]] std::vector<MediaStart> active_forwards() const;

    // Set whenever the registrations or dialog contacts changed.
    [[nodiscard]] bool state_dirty() const noexcept { return dirty_; }
    void clear_dirty() noexcept { dirty_ = false; }

    [[nodiscard]] RegistrationTable& table() noexcept { return table_; }
    [[nodiscard]] ContactMap& contacts() noexcept { return contacts_; }
    [[nodiscard]] const std::map<std::string, Call>& calls() const noexcept { return calls_; }

    // sipmasqctl answers.
    [[nodiscard]] std::string registrations_text(bool json, int64_t now) const;
    [[nodiscard]] std::string calls_text(bool json) const;
    [[nodiscard]] std::string stats_text(bool json) const;

  private:
    struct Pending;

    void handle_request(OsipMessagePtr msg, Side arrival, const SockAddr& source, int64_t now);
    // The rest of handle_request once the next hop has an address.
    void forward_request(OsipMessagePtr msg, const RouteDecision& d, const std::string& branch,
                         Side arrival, const SockAddr& source, const SockAddr& dest, int64_t now);
    void handle_response(OsipMessagePtr msg, Side arrival, const SockAddr& source, int64_t now);
    void respond(const osip_message_t* req, int status, Side arrival, const SockAddr& source,
                 const char* event, const char* reason);
    void send_message(osip_message_t* msg, Side side, const SockAddr& dest);
    // Sends a response we built back along the request's Via.
    void send_response(osip_message_t* resp, Side arrival, const SockAddr& source);
    // Registrar mode with proxy_auth_realm: false when the REGISTER was
    // challenged (401) instead of being accepted.
    bool authenticated(const osip_message_t* req, Side arrival, const SockAddr& source,
                       int64_t now);
    // Media: rewrites the SDP through rtpd, then sends; false when it did
    // nothing (no SDP, or not crossing sides) and the caller sends.
    bool relay_media(OsipMessagePtr& msg, Side arrival, Side departure, const SockAddr& dest,
                     const SockAddr& source, int64_t now);
    void finish_media(const std::shared_ptr<Pending>& p);
    void end_call(const std::string& call_id, const char* why);
    void log_registration(const RegistrationTable::Event& ev, const char* via);
    void answer_unparseable(std::string_view data, Side arrival, const SockAddr& source);
    [[nodiscard]] MediaStart media_start(const CallStream& s, const std::string& call_id) const;
    void refused(const char* event, const SockAddr& source, const char* details,
                 const char* reason);
    [[nodiscard]] std::optional<SockAddr> resolve(const HostPort& hp, const char* what);
    uint32_t allocate_forward_id();

    SipProxySettings settings_;
    MediaLink& media_;
    Sender sender_;
    RegistrationTable table_;
    ContactMap contacts_;
    std::map<std::string, Call> calls_;                        // by Call-ID
    std::unordered_map<uint32_t, std::string> forward_owner_;  // id -> Call-ID
    // Our branch -> the side the request came from, so its responses go back there.
    struct Transaction {
        Side arrival;
        int64_t created;
    };
    std::unordered_map<std::string, Transaction> transactions_;
    uint32_t next_forward_id_ = 1;
    bool dirty_ = false;

    // Counters for `sipmasqctl stats`.
    std::map<std::string, uint64_t> requests_by_method_;
    std::map<std::string, uint64_t> responses_by_class_;
    std::map<std::string, uint64_t> refusals_by_reason_;
    uint64_t unparseable_ = 0;
    RateLimit bad_log_{5, 10000};
    RateLimit refusal_log_{20, 10000};
    RateLimit bad_reply_limit_{50, 1000};  // 400s to unparseable requests, per second
    uint64_t refusal_suppressed_ = 0;
};

// "security: <event> from <addr>: <details>" with control characters
// replaced and the details capped, as the fail2ban filter expects.
[[nodiscard]] std::string security_line(std::string_view event, const SockAddr& source,
                                        std::string_view details);

}  // namespace sipmasq
