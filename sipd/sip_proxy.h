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
#include "peer_policy.h"
#include "provider_fixes.h"
#include "rate_limit.h"
#include "registrar.h"
#include "registration_table.h"
#include "request_routing.h"
#include "security_log.h"
#include "sip_types.h"
#include "transaction_table.h"

namespace sipmasq {

// The hard caps on what outside input can make sipd hold (sipmasq.conf(5)).
struct ProxyLimits {
    TransactionLimits transactions;
    size_t max_calls = 2500;                // calls with media state, in all
    size_t max_setup_calls_per_source = 8;  // unanswered INVITEs per source
    size_t max_setup_streams = 1250;        // streams of unanswered calls, in all
    size_t max_media_streams = 4;           // active m= lines in one SDP
    size_t max_dialog_contacts = 16384;     // masqueraded dialog contacts
};

struct SipProxySettings {
    RoutingPolicy policy;
    RegistrarSettings registrar;
    SockAddr inside_local;        // the inside socket's address (relay address inside)
    SockAddr outside_local;       // the outside socket's address (relay binds here)
    SockAddr outside_advertised;  // what SDP says outside (host_outbound), port ignored
    // Dual stack: the side's relay address in the other family than
    // inside_local / outside_local (invalid = none). A call's media on a
    // side uses the family of its peer there.
    SockAddr inside_local_other_family;
    SockAddr outside_local_other_family;
    // Next hops that are names; nullptr: numeric next hops only (503).
    NameResolver* resolver = nullptr;
    // Registrar mode: REGISTERs must authenticate when set (proxy_auth_realm).
    std::shared_ptr<const DigestAuth> auth;
    // Dialog contacts unused this long are forgotten.
    int64_t contact_idle_seconds = int64_t{4} * 3600;
    // Where sipd may send and which media peers an SDP may name; empty
    // inside_networks: taken from policy.inside_networks and the addresses above.
    PeerPolicy peers;
    ProxyLimits limits;
    // codec_allow/codec_deny, strip_header, replace_header, ua_string.
    ProviderFixes fixes;
    // Hosts of configured providers (outbound proxy, outbound domain host):
    // their sources get larger budgets.
    std::vector<std::string> provider_hosts;
    // Milliseconds for the transaction timers (monotonic); tests set their own.
    std::function<int64_t()> clock_ms;
    // Sends over TCP to `dest` on `side` (its connection, or a new one);
    // false when it cannot. Unset: TCP next hops are answered 503.
    std::function<bool(Side side, const SockAddr& dest, std::string_view data)> tcp_sender;
    // Is a TCP connection with `peer` on `side` open now?
    std::function<bool(Side side, const SockAddr& peer)> tcp_connected;
    // Called when a transaction timer was set, so the process re-arms its
    // event timer for next_timer_ms().
    std::function<void()> timers_changed;
};

// One media stream of a call and its forward in rtpd.
struct CallStream {
    uint32_t id = 0;  // 0: no forward (port 0, or not started)
    SockAddr inside_peer;
    SockAddr outside_peer;
    uint16_t inside_port = 0;  // bound by rtpd
    uint16_t outside_port = 0;
    // The relay's addresses (port 0), each in its side's family; chosen
    // when the stream starts and kept, so a re-INVITE finds the same ones.
    SockAddr inside_local;
    SockAddr outside_local;
    uint16_t inside_rtcp = 0;  // the peers' a=rtcp ports (RFC 3605), 0 = RTP + 1
    uint16_t outside_rtcp = 0;
    // RFC 5761: the last offer carried a=rtcp-mux (sipmasq passes it on, so
    // both legs' offers agree), and mux in force on each leg (offer and
    // answer of that leg both carry it).
    bool offered_mux = false;
    bool inside_mux = false;
    bool outside_mux = false;
    bool hold = false;
};

// An early dialog of a call (RFC 3261 §12.1): the to-tag of an answer to
// its INVITE from one fork downstream, and the media peer its SDP named for
// each stream (invalid: none). rtpengine keeps its peers per to-tag alike.
struct ForkPeer {
    SockAddr addr;
    uint16_t rtcp_port = 0;  // its a=rtcp (RFC 3605), 0 = RTP + 1
};
struct CallFork {
    std::string tag;
    std::vector<ForkPeer> peers;
};
// A fork downstream can invent tags: past this many, or this long, a new
// tag gets no state.
inline constexpr size_t kMaxCallForks = 16;
inline constexpr size_t kMaxForkTagLength = 128;

struct Call {
    std::string call_id;
    std::string from;
    std::string to;
    std::string from_tag;   // of the INVITE that made the call
    std::string to_tag;     // of the first answer with one ("" until then)
    SockAddr inside_addr;   // the inside phone's signalling address
    SockAddr outside_hop;   // the outside signalling peer of the call
    SockAddr setup_source;  // where the INVITE came from (its setup budget)
    bool setup_counted = false;
    size_t setup_streams = 0;  // streams held while unanswered
    std::vector<CallStream> streams;
    // Offer/answer (RFC 3264): an offer waits for the other side's answer;
    // the INVITE (by CSeq) whose exchange is done repeats its answer in the
    // 2xx after a 18x (RFC 3262).
    bool offer_pending = false;
    Side offer_side = Side::Inside;
    uint32_t invite_cseq = 0;
    bool invite_answered = false;
    Side caller_side = Side::Inside;   // where the INVITE came from
    Side callee_side = Side::Outside;  // where it went, and its answers come from
    // Early dialogs while it rings; once a 2xx won, the winner's and those
    // of later 2xx (which the caller ACKs and ends, §13.2.2.4).
    std::vector<CallFork> forks;
    bool established = false;  // a 2xx to the INVITE went through
    bool logged_start = false;
    int64_t created = 0;  // wall-clock seconds, for calls never answered
    // The rtpd worker that holds every forward of the call (MediaLink::place
    // at its first media; from LIST_FWD after a restart of sipd).
    std::optional<uint32_t> media_worker;
};

class SipProxy {
  public:
    using Sender = std::function<void(Side side, const SockAddr& dest, std::string_view data)>;

    SipProxy(SipProxySettings settings, MediaLink& media, Sender sender);

    // `now` is wall-clock seconds (registrations outlive the process).
    void handle_datagram(std::string_view data, Side arrival, const SockAddr& source, int64_t now) {
        handle_message(data, arrival, Transport::Udp, source, now);
    }
    // One whole message from a UDP datagram or a framed TCP stream; over
    // TCP `source` is the connection's peer, and answers go back over it.
    void handle_message(std::string_view data, Side arrival, Transport transport,
                        const SockAddr& source, int64_t now);

    // Transaction timers (retransmissions, timeouts): run what is due; the
    // next deadline in clock_ms() time, 0 when nothing waits.
    void run_timers();
    [[nodiscard]] int64_t next_timer_ms() const { return transactions_.next_deadline_ms(); }
    [[nodiscard]] const TransactionTable& transactions() const noexcept { return transactions_; }

    // An address of ours came, went or moved (proxy_addresses.cpp): the
    // address fields of `next` (inside_local, outside_local,
    // outside_advertised, policy.us, policy.public_host, peers) replace
    // ours; calls that used a moved address end. An invalid outside_local:
    // no outside address now, requests that must go out get 503.
    void change_addresses(const SipProxySettings& next);

    // A TCP connection to `peer` on `side` could not be opened: every
    // request waiting on it ends at once as if answered 503 (RFC 3261
    // §8.1.3.1, §16.9; upstream an INVITE's 503 becomes 500, §16.7 step 6),
    // not with 408 when its timer runs out.
    void transport_failed(Side side, const SockAddr& peer);

    // Timers: expire bindings and dialog contacts (logs each expiry).
    void expire(int64_t now);
    // rtpd ended a forward on its own.
    void on_media_timeout(uint32_t id, std::string_view reason);
    // After a sipd restart: a forward rtpd still holds (LIST_FWD).
    void adopt_forward(uint32_t id, const MediaStart& entry);
    // After an rtpd restart: every forward with its ports, to start again
    // in this order (a hairpinned forward twice, its outside peer first
    // left out).
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

    // Requests: new ones get a server transaction; retransmissions, the ACK
    // of a non-2xx and CANCEL are answered from the transaction they belong to.
    void handle_request(OsipMessagePtr msg, Side arrival, const SockAddr& source, int64_t now);
    void handle_cancel(const osip_message_t* cancel, Side arrival, const SockAddr& source);
    // The rest of handle_request once the next hop has an address.
    void forward_request(OsipMessagePtr msg, const RouteDecision& d, const std::string& branch,
                         const std::string& st_key, Side arrival, const SockAddr& source,
                         const SockAddr& dest, int64_t now);
    // An ACK of a 2xx, or a request of no transaction: routed on its own.
    void forward_stateless(OsipMessagePtr msg, const RouteDecision& d, const std::string& branch,
                           Side arrival, const SockAddr& source, const SockAddr& dest, int64_t now);
    // An INVITE for an AOR with several live contacts: one branch each (§16.6).
    void fork_request(OsipMessagePtr msg, const RouteDecision& d, const std::string& st_key,
                      Side arrival, const SockAddr& source, int64_t now);
    // CANCEL every pending branch of `st` but `except` (§16.7 step 10, §16.10):
    // at once once it rang, else at its first provisional (§9.1).
    void cancel_branches(ServerTransaction& st, const std::string& except);
    // A branch's final non-2xx into the response context (§16.7); the
    // chosen answer goes upstream once every branch has one.
    void collect_final(const std::string& st_key, OsipMessagePtr resp);
    void send_chosen_answer(const std::string& st_key);
    void handle_response(OsipMessagePtr msg, Side arrival, const SockAddr& source, int64_t now);
    // Answers a request with a response of ours, sent to the request's source.
    void respond(const osip_message_t* req, int status, Side arrival, const SockAddr& source,
                 const char* event, const char* reason);
    // Every datagram leaves through here: the peer policy decides.
    bool send_bytes(Side side, Transport transport, const SockAddr& dest, std::string_view data,
                    const char* what);
    void send_message(osip_message_t* msg, Side side, Transport transport, const SockAddr& dest);
    // A request leaving on its client transaction (kept for retransmission).
    void send_request(osip_message_t* msg, const std::string& ct_key);
    // A response leaving on its server transaction (to the request's source).
    void send_response(osip_message_t* resp, const std::string& st_key);
    // A response of ours for a request with no transaction (to its source).
    void send_response_to(osip_message_t* resp, Side arrival, const SockAddr& source);
    // Client transactions: ACK of a non-2xx, CANCEL.
    void send_ack_for(const ClientTransaction& ct, const osip_message_t* resp);
    void send_cancel_for(ClientTransaction& ct);
    void finish_server(ServerTransaction& st, int status);
    // A client transaction ends without a final answer: the next hop is
    // cancelled (an INVITE that rang) and the caller gets `status`.
    void fail_client(const std::string& ct_key, int status, const char* why);
    // Registrar mode with proxy_auth_realm: false when the REGISTER was
    // challenged (401) instead of being accepted.
    bool authenticated(const osip_message_t* req, Side arrival, const SockAddr& source, int64_t now,
                       const std::string& st_key);
    // Media: rewrites the SDP through rtpd, then sends; false when it did
    // nothing (no SDP, or not crossing sides) and the caller sends.
    bool relay_media(OsipMessagePtr& msg, Side arrival, Side departure,
                     Transport departure_transport, const SockAddr& dest, const SockAddr& source,
                     const std::string& txn_key, int64_t now);
    void finish_media(const std::shared_ptr<Pending>& p);
    // A media peer from outside that is the outside relay port of a live
    // stream of another call (a hairpin, hairpin.cpp; `worker`: the rtpd
    // worker that holds it, where this call's forwards must go too): that port on the
    // relay's own address; nullopt for anything else.
    [[nodiscard]] std::optional<SockAddr> hairpin_relay(
        const SockAddr& named, const std::string& call_id,
        std::optional<uint32_t>* worker = nullptr) const;
    // sipmasq's outside address (bound or advertised), any port.
    [[nodiscard]] bool names_own_outside(const SockAddr& addr) const;
    // RFC 3264: is this SDP the answer to the other side's offer? Updates
    // the call's offer/answer state.
    bool take_answer(Call& call, const osip_message_t* msg, std::string_view method, Side arrival);
    // A stream an SDP disabled (port 0): its forward ends, its ports go.
    void remove_stream(Call& call, size_t index);
    // codec_allow/codec_deny left no stream: true when handled (488 or dropped).
    bool no_codec_left(OsipMessagePtr& msg, sdp_message_t* sdp, Side arrival,
                       const SockAddr& source);
    // A new call for an initial INVITE, within the limits; nullptr (and
    // why) when a limit refuses it.
    Call* open_call(const osip_message_t* invite, Side arrival, const SockAddr& source,
                    const SockAddr& dest, int64_t now, const char** why);
    // The request belongs to the call's dialog and comes from its hop.
    [[nodiscard]] bool in_dialog(const Call& call, const osip_message_t* req, Side arrival,
                                 const SockAddr& source) const;
    void call_established(Call& call);
    // The first 2xx of the INVITE came from the fork with `tag` (from
    // `source`): its media peers are the call's, the other forks' state goes.
    void choose_fork(Call& call, const std::string& tag, const SockAddr& source);
    void end_call(const std::string& call_id, const char* why);
    void log_registration(const RegistrationTable::Event& ev, const char* via);
    void answer_unparseable(std::string_view data, Side arrival, const SockAddr& source);
    [[nodiscard]] MediaStart media_start(const CallStream& s, const std::string& call_id) const;
    // The relay's address on `side` in `family` when it has one there, else
    // the side's first (port 0); and what SDP names outside for `local`.
    [[nodiscard]] SockAddr relay_local(Side side, int family) const;
    [[nodiscard]] SockAddr advertised_for(const SockAddr& outside_local) const;
    void refused(const char* event, const SockAddr& source, const char* details,
                 const char* reason);
    [[nodiscard]] bool is_provider(const SockAddr& source) const;
    // The side has an address (a socket) of this family.
    [[nodiscard]] bool has_family(Side side, int family) const;
    uint32_t allocate_forward_id();
    [[nodiscard]] int64_t clock_ms() const;
    void count_request(std::string_view method);

    SipProxySettings settings_;
    MediaLink& media_;
    Sender sender_;
    RegistrationTable table_;
    ContactMap contacts_;
    TransactionTable transactions_;
    std::map<std::string, Call> calls_;                        // by Call-ID
    std::unordered_map<uint32_t, std::string> forward_owner_;  // id -> Call-ID
    // Unanswered calls per source host, and their streams in all.
    std::unordered_map<std::string, size_t> setup_calls_;
    size_t setup_streams_ = 0;
    // Addresses configured providers' names resolved to (a few at most).
    std::vector<SockAddr> provider_addrs_;
    uint32_t next_forward_id_ = 1;
    bool dirty_ = false;
    // The transport of the message being handled: answers that belong to
    // no transaction go back the way it came (set by handle_message and by
    // the callbacks that resume one).
    Transport arrival_transport_ = Transport::Udp;

    // Counters for `sipmasqctl stats`; every key comes from a fixed set.
    std::map<std::string, uint64_t> requests_by_method_;
    std::map<std::string, uint64_t> responses_by_class_;
    std::map<std::string, uint64_t> refusals_by_reason_;
    uint64_t unparseable_ = 0;
    RateLimit bad_log_{5, 10000};
    SecurityLog security_log_;
    RateLimit send_refused_log_{5, 10000};
    RateLimit bad_reply_limit_{50, 1000};  // 400s to unparseable requests, per second
};

// Early dialogs of a call (call_forks.cpp). A new to-tag of an answer to
// the INVITE, within kMaxCallForks.
void note_fork(Call& call, const std::string& tag);
[[nodiscard]] bool is_fork_tag(const Call& call, std::string_view tag) noexcept;
// The peer a fork's SDP named for stream `index` (kept for when its 2xx comes).
void remember_fork_peer(Call& call, std::string_view tag, size_t index, const ForkPeer& peer);
// Does this BYE end the call? Not when it ends the dialog of a fork that
// lost (a later 2xx): then only that fork is forgotten.
[[nodiscard]] bool bye_ends_call(Call& call, const osip_message_t* bye);

// "security: <event> from <addr>: <details>" with control characters
// replaced and the details capped, as the fail2ban filter expects.
[[nodiscard]] std::string security_line(std::string_view event, const SockAddr& source,
                                        std::string_view details);

}  // namespace sipmasq
