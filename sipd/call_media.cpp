// Calls and their media, the part of SipProxy that asks rtpd for relay
// ports. A call exists only for an INVITE sipmasq forwarded, within the
// limits; its media peers are set only by an offer or answer of its own
// dialog, and each peer an SDP names must pass the peer policy of its leg.
#include <cinttypes>
#include <cstring>

#include "codec_filter.h"
#include "log.h"
#include "message.h"
#include "message_fields.h"
#include "proxy_rewrite.h"
#include "registrar.h"
#include "sdp_rewrite.h"
#include "sip_proxy.h"

namespace sipmasq {

namespace {

constexpr int64_t kCallSetupSeconds = 200;  // timer C and a margin: the transaction ends it first
// m= lines of one SDP, active or not: a stream removed stays as a port-0
// line (RFC 3264 §8.2), so a call may hold a few more than it relays.
constexpr size_t kMaxMediaLines = 32;

// Methods whose SDP is an offer or answer of a call's media.
bool media_method(std::string_view method) {
    return iequals(method, "INVITE") || iequals(method, "ACK") || iequals(method, "UPDATE") ||
           iequals(method, "PRACK");
}

uint32_t cseq_number(const osip_message_t* msg) {
    if (msg->cseq == nullptr || msg->cseq->number == nullptr) return 0;
    return static_cast<uint32_t>(std::strtoul(msg->cseq->number, nullptr, 10));
}

}  // namespace

struct SipProxy::Pending {
    OsipMessagePtr msg;
    SdpMessagePtr sdp;
    Side arrival = Side::Inside;
    Side departure = Side::Outside;
    Transport arrival_transport = Transport::Udp;
    Transport departure_transport = Transport::Udp;
    SockAddr dest;
    SockAddr source;
    std::string call_id;
    std::string txn_key;  // client (request) or server (response) transaction; "" = stateless
    bool is_request = false;
    int outstanding = 0;
    bool failed = false;
    std::string error;
    std::vector<std::optional<RelayTarget>> targets;
    std::vector<bool> strip_mux;  // by stream index
};

Call* SipProxy::open_call(const osip_message_t* invite, Side arrival, const SockAddr& source,
                          const SockAddr& dest, int64_t now, const char** why) {
    if (calls_.size() >= settings_.limits.max_calls) {
        *why = "call table full";
        return nullptr;
    }
    const size_t factor = is_provider(source) ? settings_.limits.transactions.provider_factor : 1;
    size_t& in_setup = setup_calls_[budget_key(source)];
    if (in_setup >= settings_.limits.max_setup_calls_per_source * factor) {
        if (in_setup == 0) setup_calls_.erase(budget_key(source));
        *why = "too many unanswered calls from this source";
        return nullptr;
    }
    ++in_setup;
    const std::string id = call_key(call_id_of(invite));
    Call& c = calls_[id];
    c.call_id = id;
    c.created = now;
    c.from = uri_text(invite->from);
    c.to = uri_text(invite->to);
    c.from_tag = tag_of(invite->from);
    c.inside_addr = arrival == Side::Inside ? source : dest;
    c.outside_hop = arrival == Side::Outside ? source : dest;
    c.setup_source = source;
    c.setup_counted = true;
    return &c;
}

bool SipProxy::in_dialog(const Call& call, const osip_message_t* req, Side arrival,
                         const SockAddr& source) const {
    if (call.from_tag.empty()) return true;  // adopted from rtpd: nothing known to check
    const std::string from = tag_of(req->from);
    const std::string to = tag_of(req->to);
    // Any fork's early dialog (or a later 2xx's) is one of the call's.
    const bool forward_dir =
        from == call.from_tag && (call.to_tag.empty() || to == call.to_tag ||
                                  is_fork_tag(call, to) || (to.empty() && !call.established));
    const bool reverse_dir = !call.to_tag.empty() && to == call.from_tag &&
                             (from == call.to_tag || is_fork_tag(call, from));
    if (!forward_dir && !reverse_dir) return false;
    const SockAddr& hop = arrival == Side::Inside ? call.inside_addr : call.outside_hop;
    return !hop.valid() || hop.same_host(source);
}

void SipProxy::call_established(Call& call) {
    call.established = true;
    if (call.setup_counted) {
        call.setup_counted = false;
        auto it = setup_calls_.find(budget_key(call.setup_source));
        if (it != setup_calls_.end() && --it->second == 0) setup_calls_.erase(it);
    }
    setup_streams_ -= std::min(setup_streams_, call.setup_streams);
    call.setup_streams = 0;
}

// What rtpd is asked for one stream: for a new stream, for a re-INVITE
// (same id and ports) and for a new rtpd after a restart.
MediaStart SipProxy::media_start(const CallStream& s, const std::string& call_id) const {
    MediaStart m;
    m.id = s.id;
    m.inside_local = s.inside_local.valid() ? s.inside_local : settings_.inside_local;
    m.outside_local = s.outside_local.valid() ? s.outside_local : settings_.outside_local;
    m.inside_local.set_port(0);
    m.outside_local.set_port(0);
    m.inside_peer = s.inside_peer;
    m.outside_peer = s.outside_peer;
    m.inside_port = s.inside_port;
    m.outside_port = s.outside_port;
    m.inside_rtcp_port = s.inside_rtcp;
    m.outside_rtcp_port = s.outside_rtcp;
    m.inside_mux = s.inside_mux;
    m.outside_mux = s.outside_mux;
    m.hold = s.hold;
    m.tag = call_id;
    return m;
}

SockAddr SipProxy::relay_local(Side side, int family) const {
    const SockAddr& first = side == Side::Inside ? settings_.inside_local : settings_.outside_local;
    const SockAddr& other = side == Side::Inside ? settings_.inside_local_other_family
                                                 : settings_.outside_local_other_family;
    SockAddr out =
        (other.valid() && other.family() == family && first.family() != family) ? other : first;
    out.set_port(0);
    return out;
}

// host_outbound names the outside in its family; an outside address of
// the other family (a dual-stack outside) is advertised as it is.
SockAddr SipProxy::advertised_for(const SockAddr& outside_local) const {
    const SockAddr& adv = settings_.outside_advertised;
    if (adv.valid() && adv.family() == outside_local.family()) return adv;
    return outside_local;
}

// An INVITE or UPDATE offers; an ACK answers a 2xx's offer; a PRACK answers
// the offer of a reliable 18x or makes one; a response to UPDATE or PRACK
// answers; a 18x/2xx to an INVITE answers the INVITE's offer, repeats an
// answer already given (the 2xx after a reliable 18x), or is the offer of
// an INVITE without one (RFC 3264 §5, 3262 §5, 3311 §5.2).
bool SipProxy::take_answer(Call& call, const osip_message_t* msg, std::string_view method,
                           Side arrival) {
    const bool request = MSG_IS_REQUEST(msg);
    const bool answers_other = call.offer_pending && call.offer_side != arrival;
    bool answer = false;
    if (request)
        answer = iequals(method, "ACK") || (iequals(method, "PRACK") && answers_other);
    else if (iequals(method, "INVITE"))
        answer = answers_other || (cseq_number(msg) == call.invite_cseq && call.invite_answered);
    else
        answer = true;
    if (answer) {
        call.offer_pending = false;
        call.invite_answered = true;
    } else {
        call.offer_pending = true;
        call.offer_side = arrival;
    }
    return answer;
}

void SipProxy::remove_stream(Call& call, size_t index) {
    if (index >= call.streams.size() || call.streams[index].id == 0) return;
    CallStream& s = call.streams[index];
    media_.stop(s.id);
    forward_owner_.erase(s.id);
    log_info("call %s: stream %zu removed (relay ports %u/%u)", call.call_id.c_str(), index,
             s.inside_port, s.outside_port);
    s = CallStream{};
}

uint32_t SipProxy::allocate_forward_id() {
    for (;;) {
        const uint32_t id = next_forward_id_++;
        if (next_forward_id_ == 0) next_forward_id_ = 1;
        if (id != 0 && forward_owner_.find(id) == forward_owner_.end()) return id;
    }
}

bool SipProxy::relay_media(OsipMessagePtr& msg, Side arrival, Side departure,
                           Transport departure_transport, const SockAddr& dest,
                           const SockAddr& source, const std::string& txn_key, int64_t /*now*/) {
    const bool is_request = MSG_IS_REQUEST(msg.get());
    const std::string method =
        is_request ? std::string(osip_sv(msg->sip_method)) : cseq_method(msg.get());
    if (!media_method(method)) return false;
    SdpMessagePtr sdp = sdp_of_message(msg.get());
    if (is_request && iequals(method, "INVITE")) {
        // A new INVITE starts a new exchange, with or without an offer.
        auto c = calls_.find(call_key(call_id_of(msg.get())));
        if (c != calls_.end() && in_dialog(c->second, msg.get(), arrival, source)) {
            c->second.invite_cseq = cseq_number(msg.get());
            c->second.invite_answered = false;
            c->second.offer_pending = false;
        }
    }
    if (sdp == nullptr) return false;
    // codec_allow / codec_deny first: what is filtered out gets no relay.
    const CodecFilterResult codecs = filter_codecs(sdp.get(), settings_.fixes.codecs);
    if ((codecs.removed > 0 || codecs.disabled > 0) && codecs.active_left == 0)
        return no_codec_left(msg, sdp.get(), arrival, source);
    SdpInfo info;
    // From outside, our outside address may be a hairpin (checked below,
    // refused otherwise even where the peer policy allows loopback).
    std::vector<SockAddr> own = {settings_.inside_local};
    if (arrival == Side::Inside) {
        own.push_back(settings_.outside_local);
        own.push_back(settings_.outside_advertised);
        if (settings_.outside_local_other_family.valid())
            own.push_back(settings_.outside_local_other_family);
    }
    if (settings_.inside_local_other_family.valid())
        own.push_back(settings_.inside_local_other_family);
    SdpStatus st = sdp_inspect(sdp.get(), own, info);
    if (st == SdpStatus::NoMedia) return false;
    // A phone behind a further NAT inside names its own private address:
    // its media comes from where its signalling does (Kamailio's
    // fix_nated_sdp), the port as it says.
    if (arrival == Side::Inside && settings_.peers.is_inside(source))
        for (SdpMedia& m : info.media)
            if (!m.disabled && !m.addr.is_unspecified() && m.addr.valid() &&
                !settings_.peers.is_inside(m.addr)) {
                const uint16_t port = m.addr.port();
                m.addr = source;
                m.addr.set_port(port);
            }
    const std::string call_id = call_key(call_id_of(msg.get()));
    auto it = calls_.find(call_id);
    // What refuses this SDP, if anything: its form, its size, its peers.
    std::string refusal;
    if (st != SdpStatus::Ok) refusal = std::string("SDP refused (") + sdp_status_name(st) + ")";
    size_t active = 0;
    for (const SdpMedia& m : info.media) active += m.disabled ? 0 : 1;
    if (refusal.empty() && active > settings_.limits.max_media_streams)
        refusal = std::to_string(active) + " media streams, at most " +
                  std::to_string(settings_.limits.max_media_streams);
    if (refusal.empty() && info.media.size() > kMaxMediaLines)
        refusal = std::to_string(info.media.size()) + " m= lines, at most " +
                  std::to_string(kMaxMediaLines);
    std::optional<uint32_t> hairpin_worker;
    for (SdpMedia& m : info.media) {
        if (!refusal.empty()) break;
        if (m.disabled || m.addr.is_unspecified()) continue;
        if (arrival == Side::Outside && names_own_outside(m.addr)) {
            if (auto relay = hairpin_relay(m.addr, call_id, &hairpin_worker)) {
                m.addr = *relay;
                continue;
            }
            refusal = "media peer " + addr_text(m.addr) + ": sipmasq's own address";
            continue;
        }
        if (const char* why = settings_.peers.refuse(arrival, m.addr))
            refusal = "media peer " + addr_text(m.addr) + ": " + why;
    }
    if (refusal.empty() && it == calls_.end()) refusal = "no call of this dialog";
    if (refusal.empty() && is_request && !in_dialog(it->second, msg.get(), arrival, source))
        refusal = "not of the call's dialog";
    size_t new_streams = 0;
    if (refusal.empty() && !it->second.established) {
        for (const SdpMedia& m : info.media) {
            const auto index = static_cast<size_t>(m.index);
            if (!m.disabled &&
                (index >= it->second.streams.size() || it->second.streams[index].id == 0))
                ++new_streams;
        }
        if (setup_streams_ + new_streams > settings_.limits.max_setup_streams)
            refusal = "relay ports for unanswered calls exhausted";
    }
    if (!refusal.empty()) {
        // A broken SDP is a bad request; an SDP that asks too much or names
        // a peer the policy forbids is an attempt on the relay.
        refused(st != SdpStatus::Ok ? "bad-request" : "media-refused", source,
                (refusal + " in " + call_id).c_str(), "media");
        if (is_request && !MSG_IS_ACK(msg.get()) && pop_own_via(msg.get(), settings_.policy.us))
            respond(msg.get(), 488, arrival, source, nullptr, "media refused");
        // An offer refused before the call got anywhere leaves no call
        // behind: else each hostile INVITE would keep an entry for ever.
        if (it != calls_.end() && !it->second.established && !it->second.logged_start) {
            bool relayed = false;
            for (const CallStream& stream : it->second.streams) relayed = relayed || stream.id != 0;
            if (!relayed) end_call(call_id, "media refused");
        }
        return true;
    }
    Call& call = it->second;
    call.setup_streams += new_streams;
    setup_streams_ += new_streams;
    const bool answer = take_answer(call, msg.get(), method, arrival);
    // Forking: each fork's answer names its own peer (kept per to-tag); the
    // answer of a fork that lost to another's 2xx names none.
    const std::string fork_tag =
        !is_request && iequals(method, "INVITE") ? tag_of(msg->to) : std::string();
    const bool losing_fork = !fork_tag.empty() && call.established && fork_tag != call.to_tag;

    auto p = std::make_shared<Pending>();
    p->arrival = arrival;
    p->departure = departure;
    p->arrival_transport = arrival_transport_;
    p->departure_transport = departure_transport;
    p->dest = dest;
    p->source = source;
    p->call_id = call_id;
    p->txn_key = txn_key;
    p->is_request = is_request;
    p->targets.resize(info.media.size());
    p->strip_mux.resize(info.media.size());

    std::vector<std::pair<size_t, MediaStart>> starts;
    if (!call.media_worker) call.media_worker = hairpin_worker ? hairpin_worker : media_.place();
    for (const SdpMedia& m : info.media) {
        const auto index = static_cast<size_t>(m.index);
        if (m.disabled) {
            remove_stream(call, index);  // port 0 in an offer or answer: the stream is gone
            continue;
        }
        if (call.streams.size() <= index) call.streams.resize(index + 1);
        CallStream& s = call.streams[index];
        if (s.id == 0) {
            s.id = allocate_forward_id();
            forward_owner_[s.id] = call_id;
            // Each side in the family of its peer: the SDP's address on the
            // side it came from, the signalling hop on the other (RFC 5118
            // §4: an IPv6 phone may call an IPv4 peer through us).
            const bool known = !m.addr.is_unspecified() && m.addr.valid();
            const SockAddr& in_hop = known && arrival == Side::Inside ? m.addr : call.inside_addr;
            const SockAddr& out_hop = known && arrival == Side::Outside ? m.addr : call.outside_hop;
            s.inside_local = relay_local(Side::Inside, in_hop.family());
            s.outside_local = relay_local(Side::Outside, out_hop.family());
        }
        // On hold with c=0.0.0.0 the old peer stays: the ports must not move.
        if (!m.addr.is_unspecified() && !losing_fork) {
            (arrival == Side::Inside ? s.inside_peer : s.outside_peer) = m.addr;
            (arrival == Side::Inside ? s.inside_rtcp : s.outside_rtcp) = m.rtcp_port.value_or(0);
            if (!fork_tag.empty())
                remember_fork_peer(call, fork_tag, index, {m.addr, m.rtcp_port.value_or(0)});
        }
        // rtcp-mux: an offer's is passed on as it is; an answer settles it
        // on both legs, and loses an a=rtcp-mux no offer asked for.
        if (!answer) {
            s.offered_mux = m.rtcp_mux;
        } else {
            if (!losing_fork) s.inside_mux = s.outside_mux = s.offered_mux && m.rtcp_mux;
            p->strip_mux[index] = m.rtcp_mux && !s.offered_mux;
        }
        if (!losing_fork) s.hold = m.hold;
        starts.emplace_back(index, media_start(s, call_id));
        starts.back().second.worker = *call.media_worker;
    }
    if (starts.empty()) return false;  // every stream disabled: nothing to relay
    p->msg = std::move(msg);
    p->sdp = std::move(sdp);
    if (!media_.available()) {
        p->failed = true;
        p->error = "rtpd unavailable";
        finish_media(p);
        return true;
    }
    p->outstanding = static_cast<int>(starts.size());
    for (auto& [index, req] : starts) {
        const size_t i = index;
        media_.start(req, [this, p, i](const MediaResult& r) {
            if (!r.ok) {
                p->failed = true;
                p->error = r.error;
            } else if (auto c = calls_.find(p->call_id);
                       c != calls_.end() && i < c->second.streams.size()) {
                CallStream& s = c->second.streams[i];
                s.inside_port = r.inside_local.port();
                s.outside_port = r.outside_local.port();
                RelayTarget t;
                if (p->departure == Side::Outside) {
                    t.rtp = advertised_for(r.outside_local);
                    t.rtp.set_port(s.outside_port);
                } else {
                    t.rtp = r.inside_local;
                    t.rtp.set_port(s.inside_port);
                }
                // Our RTCP port on the leg this SDP goes to: the RTP port
                // where rtcp-mux is in force, else the pair's odd port.
                const bool mux = p->departure == Side::Outside ? s.outside_mux : s.inside_mux;
                t.rtcp_port = mux ? t.rtp.port() : static_cast<uint16_t>(t.rtp.port() + 1);
                t.strip_rtcp_mux = p->strip_mux[i];
                p->targets[i] = t;
            } else {
                p->failed = true;
                p->error = "call ended meanwhile";
            }
            if (--p->outstanding == 0) finish_media(p);
        });
    }
    return true;
}

// Every stream's formats were filtered out: an offer or answer in a
// request is refused with 488 (RFC 3261 §21.4.26); a response goes on
// with its streams disabled (port 0), and the caller ends the call.
bool SipProxy::no_codec_left(OsipMessagePtr& msg, sdp_message_t* sdp, Side arrival,
                             const SockAddr& source) {
    const std::string call_id = call_key(call_id_of(msg.get()));
    log_notice("call %s: no codec left after codec_allow/codec_deny in a %s from %s",
               call_id.c_str(), MSG_IS_REQUEST(msg.get()) ? "request" : "response",
               addr_text(source).c_str());
    if (MSG_IS_REQUEST(msg.get()) && !MSG_IS_ACK(msg.get())) {
        if (pop_own_via(msg.get(), settings_.policy.us))
            respond(msg.get(), 488, arrival, source, nullptr, "no acceptable codec");
        auto it = calls_.find(call_id);
        if (it != calls_.end() && !it->second.established) end_call(call_id, "no codec left");
        return true;
    }
    if (!replace_message_body(msg.get(), sdp_to_string(sdp))) return true;  // dropped
    return false;
}

void SipProxy::finish_media(const std::shared_ptr<Pending>& p) {
    osip_message_t* msg = p->msg.get();
    arrival_transport_ = p->arrival_transport;  // rtpd answered later: resume its message
    if (!p->failed) {
        const SdpStatus st = sdp_rewrite(p->sdp.get(), p->targets);
        if (st != SdpStatus::Ok) {
            p->failed = true;
            p->error = std::string("SDP rewrite: ") + sdp_status_name(st);
        } else if (!replace_message_body(msg, sdp_to_string(p->sdp.get()))) {
            p->failed = true;
            p->error = "SDP body";
        }
    }
    if (p->failed) {
        log_warning("call %s: media relay failed (%s): %s not forwarded", p->call_id.c_str(),
                    p->error.c_str(), p->is_request ? "request" : "response");
        auto it = calls_.find(p->call_id);
        const bool established = it != calls_.end() && it->second.established;
        if (p->is_request && !MSG_IS_ACK(msg) && pop_own_via(msg, settings_.policy.us))
            respond(msg, 503, p->arrival, p->source, nullptr, "no media relay");
        if (!established) end_call(p->call_id, "media relay failed");
        return;
    }
    auto it = calls_.find(p->call_id);
    if (it != calls_.end() && !it->second.logged_start && !it->second.streams.empty()) {
        const CallStream& s = it->second.streams.front();
        if (s.inside_peer.valid() && s.outside_peer.valid()) {
            it->second.logged_start = true;
            log_record(
                "call start: From %s To %s Call-ID %s inside %s relay ports inside %u outside %u",
                it->second.from.c_str(), it->second.to.c_str(), p->call_id.c_str(),
                addr_text(it->second.inside_addr).c_str(), s.inside_port, s.outside_port);
        }
    }
    if (p->txn_key.empty())
        send_message(msg, p->departure, p->departure_transport, p->dest);
    else if (p->is_request)
        send_request(msg, p->txn_key);
    else
        send_response(msg, p->txn_key);
}

void SipProxy::end_call(const std::string& call_id, const char* why) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    Call& c = it->second;
    if (c.setup_counted || c.setup_streams > 0) {
        call_established(c);  // releases what the setup held
        c.established = false;
    }
    std::string ports;
    for (const CallStream& s : c.streams) {
        if (s.id == 0) continue;
        media_.stop(s.id);
        forward_owner_.erase(s.id);
        ports += " " + std::to_string(s.inside_port) + "/" + std::to_string(s.outside_port);
    }
    log_record("call end: From %s To %s Call-ID %s inside %s relay ports%s (%s)", c.from.c_str(),
               c.to.c_str(), call_id.c_str(), addr_text(c.inside_addr).c_str(),
               ports.empty() ? " none" : ports.c_str(), why);
    calls_.erase(it);
}

void SipProxy::on_media_timeout(uint32_t id, std::string_view reason) {
    auto owner = forward_owner_.find(id);
    if (owner == forward_owner_.end()) return;
    const std::string call_id = owner->second;
    forward_owner_.erase(owner);
    log_notice("call %s media timed out (%.*s)", call_id.c_str(), static_cast<int>(reason.size()),
               reason.data());
    if (auto it = calls_.find(call_id); it != calls_.end())
        for (CallStream& s : it->second.streams)
            if (s.id == id) s.id = 0;  // rtpd has already let it go
    end_call(call_id, "media timeout");
}

void SipProxy::adopt_forward(uint32_t id, const MediaStart& entry) {
    // What rtpd lists is bounded by its port range; still, never more than
    // the call table may hold.
    const size_t cap = settings_.limits.max_calls * settings_.limits.max_media_streams;
    if (forward_owner_.size() >= cap ||
        (calls_.find(entry.tag) == calls_.end() && calls_.size() >= settings_.limits.max_calls)) {
        log_warning("forward %u of %s not adopted: the call table is full; stopping it", id,
                    entry.tag.c_str());
        media_.stop(id);
        return;
    }
    Call& c = calls_[entry.tag];
    if (c.call_id.empty()) {
        c.call_id = entry.tag;
        c.from = c.to = "(from rtpd)";
        c.established = true;
        c.logged_start = true;
    }
    CallStream s;
    s.id = id;
    s.inside_peer = entry.inside_peer;
    s.outside_peer = entry.outside_peer;
    s.inside_port = entry.inside_port;
    s.outside_port = entry.outside_port;
    s.inside_local = entry.inside_local;
    s.outside_local = entry.outside_local;
    s.inside_local.set_port(0);
    s.outside_local.set_port(0);
    s.inside_rtcp = entry.inside_rtcp_port;
    s.outside_rtcp = entry.outside_rtcp_port;
    s.inside_mux = entry.inside_mux;
    s.outside_mux = entry.outside_mux;
    s.offered_mux = entry.inside_mux && entry.outside_mux;
    s.hold = entry.hold;
    c.streams.push_back(s);
    c.media_worker = entry.worker;
    if (!c.inside_addr.valid()) c.inside_addr = entry.inside_peer;
    forward_owner_[id] = entry.tag;
    if (id >= next_forward_id_) next_forward_id_ = id + 1;
}

std::vector<MediaStart> SipProxy::active_forwards() const {
    std::vector<MediaStart> out;
    for (const auto& [call_id, c] : calls_)
        for (const CallStream& s : c.streams) {
            if (s.id == 0) continue;
            out.push_back(media_start(s, call_id));
            out.back().worker = c.media_worker.value_or(0);
        }
    // A hairpinned forward (hairpin.cpp) relays to another forward, which
    // rtpd accepts only while that one is live: it starts first without its
    // outside peer, and gets the peer again once every forward is back.
    const size_t n = out.size();
    for (size_t i = 0; i < n; ++i)
        if (out[i].outside_peer.same_host(settings_.outside_local)) {
            out.push_back(out[i]);
            out[i].outside_peer = SockAddr();
        }
    return out;
}

void SipProxy::expire(int64_t now) {
    for (Binding& b : table_.expire(now)) {
        log_notice("registration expired: %s contact %s from %s (%s)", b.aor.c_str(),
                   b.contact.c_str(), addr_text(b.source).c_str(), binding_mode_name(b.mode));
        dirty_ = true;
    }
    if (contacts_.expire(now - settings_.contact_idle_seconds) > 0) dirty_ = true;
    // An INVITE without a final answer ends with its transaction (timer C);
    // this catches a call whose transaction is gone for any other reason.
    std::vector<std::string> unanswered;
    for (const auto& [call_id, c] : calls_)
        if (!c.established && c.created != 0 && now - c.created > kCallSetupSeconds)
            unanswered.push_back(call_id);
    for (const auto& call_id : unanswered) end_call(call_id, "never answered");
}

}  // namespace sipmasq
