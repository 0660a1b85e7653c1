#include "sip_proxy.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "json_escape.h"
#include "log.h"
#include "message.h"
#include "precheck.h"
#include "proxy_rewrite.h"
#include "sdp_rewrite.h"
#include "sip_response.h"

namespace sipmasq {

namespace {

constexpr int64_t kTransactionSeconds = 64;  // 64*T1: every response has come by then
constexpr int64_t kCallSetupSeconds = 180;   // RFC 3261 timer C

// A call's key in the call table and its tag in rtpd: the Call-ID, or for
// one longer than rtpd's tag its first characters and a hash of the whole,
// so that a restarted sipd finds its calls again in what rtpd lists.
std::string call_key(std::string call_id) {
    constexpr size_t kMax = proto::kTagSize - 1;
    if (call_id.size() <= kMax) return call_id;
    const std::string hash = hex64(stable_hash64(call_id));
    return call_id.substr(0, kMax - hash.size() - 1) + "~" + hash;
}
constexpr size_t kMaxDetails = 120;

std::string uri_text(const osip_from_t* f) {
    if (f == nullptr || f->url == nullptr) return "-";
    return uri_to_string(f->url);
}

bool has_to_tag(const osip_message_t* msg) {
    osip_generic_param_t* tag = nullptr;
    return msg->to != nullptr && osip_to_get_tag(msg->to, &tag) == 0 && tag != nullptr;
}

std::string cseq_method(const osip_message_t* msg) {
    return msg->cseq != nullptr ? std::string(osip_sv(msg->cseq->method)) : std::string();
}

std::string branch_of_top_via(const osip_message_t* msg) {
    auto* via = static_cast<osip_via_t*>(osip_list_get(&msg->vias, 0));
    osip_generic_param_t* b = nullptr;
    if (via == nullptr || osip_via_param_get_byname(via, const_cast<char*>("branch"), &b) != 0 ||
        b == nullptr || b->gvalue == nullptr)
        return {};
    return b->gvalue;
}

const char* change_name(RegistrationTable::Change c) {
    switch (c) {
        case RegistrationTable::Change::Added:
            return "added";
        case RegistrationTable::Change::Refreshed:
            return "refreshed";
        case RegistrationTable::Change::Confirmed:
            return "confirmed";
        case RegistrationTable::Change::Removed:
            return "removed";
        case RegistrationTable::Change::Expired:
            return "expired";
    }
    return "changed";
}

std::string addr_text(const SockAddr& a) {
    return a.valid() ? a.to_string() : std::string("-");
}

}  // namespace

std::string security_line(std::string_view event, const SockAddr& source,
                          std::string_view details) {
    std::string clean;
    for (char ch : details.substr(0, kMaxDetails)) {
        const auto c = static_cast<unsigned char>(ch);
        clean += (c < 0x20 || c == 0x7f) ? '?' : ch;
    }
    if (details.size() > kMaxDetails) clean += "...";
    return "security: " + std::string(event) + " from " + addr_text(source) + ": " + clean;
}

struct SipProxy::Pending {
    OsipMessagePtr msg;
    SdpMessagePtr sdp;
    Side arrival = Side::Inside;
    Side departure = Side::Outside;
    SockAddr dest;
    SockAddr source;
    std::string call_id;
    bool is_request = false;
    int outstanding = 0;
    bool failed = false;
    std::string error;
    std::vector<std::optional<RelayTarget>> targets;
};

SipProxy::SipProxy(SipProxySettings settings, MediaLink& media, Sender sender)
    : settings_(std::move(settings)), media_(media), sender_(std::move(sender)) {}

void SipProxy::handle_datagram(std::string_view data, Side arrival, const SockAddr& source,
                               int64_t now) {
    const PrecheckResult pre = precheck_datagram(data);
    if (pre.reason == PrecheckReason::KeepAlive) return;
    uint64_t suppressed = 0;
    if (!pre.ok()) {
        ++unparseable_;
        ++refusals_by_reason_["malformed"];
        if (bad_log_.allow(monotonic_ms(), suppressed))
            log_notice(
                "%s (%" PRIu64 " similar suppressed)",
                security_line("bad-request", source, precheck_reason_name(pre.reason)).c_str(),
                suppressed);
        return;
    }
    OsipMessagePtr msg = parse_sip_message(data);
    if (msg == nullptr) {
        ++unparseable_;
        ++refusals_by_reason_["unparseable"];
        if (pre.kind == StartLineKind::Request) answer_unparseable(data, arrival, source);
        if (bad_log_.allow(monotonic_ms(), suppressed))
            log_notice(
                "%s (%" PRIu64 " similar suppressed)",
                security_line("bad-request", source,
                              pre.kind == StartLineKind::Request ? "unparseable request dropped"
                                                                 : "unparseable response dropped")
                    .c_str(),
                suppressed);
        return;
    }
    if (MSG_IS_REQUEST(msg.get()))
        handle_request(std::move(msg), arrival, source, now);
    else
        handle_response(std::move(msg), arrival, source, now);
}

// A request libosip2 cannot parse as a whole still gets the 400 of RFC 3261
// §21.4.1 when the headers a response copies can be parsed on their own:
// they are put into a stand-in request that libosip2 parses, and the
// answer goes where a response to the sender goes (received/rport). Never
// for an ACK, and rate-limited, so garbage cannot turn sipmasq into a
// reflector.
void SipProxy::answer_unparseable(std::string_view data, Side arrival, const SockAddr& source) {
    uint64_t suppressed = 0;
    if (!bad_reply_limit_.allow(monotonic_ms(), suppressed)) return;
    static constexpr std::string_view kCopied[] = {"via", "v",       "from", "f",   "to",
                                                   "t",   "call-id", "i",    "cseq"};
    std::string stand_in = "OPTIONS sip:invalid SIP/2.0\r\n";
    size_t line_start = data.find('\n');
    while (line_start != std::string_view::npos && line_start + 1 < data.size()) {
        const size_t next = data.find('\n', line_start + 1);
        std::string_view line = data.substr(
            line_start + 1, (next == std::string_view::npos ? data.size() : next) - line_start - 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the end of the headers
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string_view name = line.substr(0, colon);
            while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
                name.remove_suffix(1);
            const std::string lower = ascii_lower(name);
            for (std::string_view copied : kCopied)
                if (lower == copied) stand_in.append(line).append("\r\n");
        }
        line_start = next;
    }
    stand_in += "Content-Length: 0\r\n\r\n";
    OsipMessagePtr req = parse_sip_message(stand_in);
    if (req == nullptr || req->cseq == nullptr || iequals(osip_sv(req->cseq->method), "ACK"))
        return;
    stamp_received_rport(req.get(), source);
    OsipMessagePtr resp = build_response(req.get(), 400);
    if (resp == nullptr) return;
    send_response(resp.get(), arrival, source);
}

void SipProxy::refused(const char* event, const SockAddr& source, const char* details,
                       const char* reason) {
    ++refusals_by_reason_[reason];
    uint64_t suppressed = refusal_suppressed_;
    if (!refusal_log_.allow(monotonic_ms(), suppressed)) return;
    std::string line = security_line(event, source, details);
    if (suppressed > 0) line += " (" + std::to_string(suppressed) + " similar suppressed)";
    log_notice("%s", line.c_str());
}

std::optional<SockAddr> SipProxy::resolve(const HostPort& hp, const char* what) {
    auto addr = SockAddr::parse(hp.host);
    if (!addr) {
        // sipd runs chrooted and seccomp'd; names are not looked up there yet.
        log_warning("%s %s: DNS not supported yet (numeric addresses only)", what,
                    hp.to_string().c_str());
        return std::nullopt;
    }
    addr->set_port(hp.port);
    return addr;
}

void SipProxy::send_message(osip_message_t* msg, Side side, const SockAddr& dest) {
    const std::string text = sip_message_to_string(msg);
    if (text.empty()) {
        log_error("could not serialise a message for %s", dest.to_string().c_str());
        return;
    }
    sender_(side, dest, text);
}

void SipProxy::respond(const osip_message_t* req, int status, Side arrival, const SockAddr& source,
                       const char* event, const char* reason) {
    if (event != nullptr) {
        std::string details = std::to_string(status) + " " + reason + ": " +
                              std::string(osip_sv(req->sip_method)) + " " +
                              (req->req_uri != nullptr ? uri_to_string(req->req_uri) : "-") +
                              " to " + uri_text(req->to);
        refused(event, source, details.c_str(), reason);
    }
    OsipMessagePtr resp = build_response(req, status);
    if (resp == nullptr) return;  // not enough to answer: dropped
    send_response(resp.get(), arrival, source);
}

void SipProxy::send_response(osip_message_t* resp, Side arrival, const SockAddr& source) {
    SockAddr dest = source;
    if (auto hp = response_next_hop(resp))
        if (auto a = SockAddr::parse(hp->host)) {
            dest = *a;
            dest.set_port(hp->port);
        }
    ++responses_by_class_[std::to_string(resp->status_code / 100) + "xx-sent"];
    send_message(resp, arrival, dest);
}

bool SipProxy::authenticated(const osip_message_t* req, Side arrival, const SockAddr& source,
                             int64_t now) {
    if (!settings_.auth) return true;
    const ProxyAddresses& us = settings_.policy.us;
    const AuthResult a = settings_.auth->check(
        req, now, source, [&us](std::string_view host) { return us.is_own_host(host); });
    if (a.verdict == AuthVerdict::Ok) return true;
    if (a.verdict == AuthVerdict::Throttled) {  // no challenge: nothing to guess against
        respond(req, 403, arrival, source, "auth-throttled", a.why);
        return false;
    }
    if (a.verdict == AuthVerdict::Failed) {
        const std::string details = "user=" + a.user + " (" + a.why + ")";
        refused("auth-failed", source, details.c_str(), "auth");
    }
    OsipMessagePtr resp = build_response(req, 401);
    if (resp == nullptr) return false;
    const std::string value = settings_.auth->challenge(now, a.verdict == AuthVerdict::Stale);
    if (osip_message_set_www_authenticate(resp.get(), value.c_str()) != 0) {
        log_error("cannot build a WWW-Authenticate header");
        return false;
    }
    send_response(resp.get(), arrival, source);
    return false;
}

void SipProxy::log_registration(const RegistrationTable::Event& ev, const char* via) {
    const Binding& b = ev.binding;
    log_notice("registration %s%s: %s contact %s from %s (%s%s)", change_name(ev.change),
               b.provisional ? " (pending registrar)" : "", b.aor.c_str(), b.contact.c_str(),
               addr_text(b.source).c_str(), binding_mode_name(b.mode), via);
    dirty_ = true;
}

void SipProxy::handle_request(OsipMessagePtr msg, Side arrival, const SockAddr& source,
                              int64_t now) {
    osip_message_t* req = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    ++requests_by_method_[std::string(osip_sv(req->sip_method))];
    if (req->call_id == nullptr || req->cseq == nullptr || req->from == nullptr ||
        req->to == nullptr || osip_list_size(&req->vias) < 1 || req->req_uri == nullptr) {
        respond(req, 400, arrival, source, "bad-request", "missing mandatory header");
        return;
    }
    if (!iequals(cseq_method(req), osip_sv(req->sip_method)) && !MSG_IS_ACK(req)) {
        respond(req, 400, arrival, source, "bad-request", "CSeq method mismatch");
        return;
    }
    stamp_received_rport(req, source);
    if (const int status = check_and_decrement_max_forwards(req); status != 0) {
        if (!MSG_IS_ACK(req))
            respond(req, status, arrival, source, status == 483 ? "loop" : "bad-request",
                    status == 483 ? "Max-Forwards 0" : "bad Max-Forwards");
        return;
    }
    const std::string branch = compute_branch(req, us);
    if (detect_loop(req, branch, us)) {
        if (!MSG_IS_ACK(req)) respond(req, 482, arrival, source, "loop", "loop detected");
        return;
    }
    pop_own_routes(req, us);
    const RouteDecision d =
        route_request(settings_.policy, req, arrival, source, table_, contacts_, now);
    switch (d.action) {
        case RouteAction::Drop:
            if (d.status == 0)
                refused("acl-refused", source, d.reason, "acl");
            else
                log_debug("ACK dropped (%s) from %s", d.reason, source.to_string().c_str());
            return;
        case RouteAction::Respond: {
            const char* event = d.status == 403
                                    ? (MSG_IS_REGISTER(req) ? "register-refused" : "relay-refused")
                                : d.status == 404 ? "not-found"
                                : d.status == 482 ? "loop"
                                                  : "bad-request";
            respond(req, d.status, arrival, source, event, d.reason);
            return;
        }
        case RouteAction::Register: {
            if (!authenticated(req, arrival, source, now)) return;
            RegisterOutcome out =
                handle_register(req, source, settings_.policy, settings_.registrar, table_, now);
            for (const auto& ev : out.events) log_registration(ev, "");
            if (out.response == nullptr) return;
            if (out.error[0] != '\0') {
                std::string details = std::string(out.error) + ": " + uri_text(req->to);
                refused("register-refused", source, details.c_str(), out.error);
            }
            send_response(out.response.get(), arrival, source);
            return;
        }
        case RouteAction::Forward:
            break;
    }

    if (!d.new_request_uri.empty()) {
        OsipUriPtr uri = parse_uri(d.new_request_uri);
        if (uri == nullptr) {
            respond(req, 500, arrival, source, nullptr, "bad contact");
            return;
        }
        osip_uri_free(req->req_uri);
        req->req_uri = uri.release();
    }
    if (auto numeric = SockAddr::parse(d.next_hop.host)) {
        numeric->set_port(d.next_hop.port);
        forward_request(std::move(msg), d, branch, arrival, source, *numeric, now);
        return;
    }
    if (settings_.resolver == nullptr) {
        log_warning("next hop %s: a name, and no resolver", d.next_hop.to_string().c_str());
        if (!MSG_IS_ACK(req)) respond(req, 503, arrival, source, nullptr, "no DNS");
        return;
    }
    // Held until the name resolves; the message and decision travel along.
    auto held = std::make_shared<OsipMessagePtr>(std::move(msg));
    settings_.resolver->resolve_hop(
        d.next_hop, [this, held, d, branch, arrival, source, now](std::optional<SockAddr> addr,
                                                                  const char* error) {
            osip_message_t* m = held->get();
            if (!addr) {
                log_warning("next hop %s: %s; %s %s %s", d.next_hop.to_string().c_str(), error,
                            osip_sv(m->sip_method).data(), call_id_of(m).c_str(),
                            MSG_IS_ACK(m) ? "dropped" : "answered 504");
                if (!MSG_IS_ACK(m)) respond(m, 504, arrival, source, nullptr, "DNS failed");
                return;
            }
            if (addr->port() == 0) addr->set_port(d.next_hop.port);  // else SRV's
            forward_request(std::move(*held), d, branch, arrival, source, *addr, now);
        });
}

void SipProxy::forward_request(OsipMessagePtr msg, const RouteDecision& d,
                               const std::string& branch, Side arrival, const SockAddr& source,
                               const SockAddr& dest_addr, int64_t now) {
    osip_message_t* req = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    const std::optional<SockAddr> dest = dest_addr;
    if (us.is_own_host(dest->host_string()) && dest->port() == us.on(d.out_side).port) {
        if (!MSG_IS_ACK(req)) respond(req, 482, arrival, source, "loop", "next hop is us");
        return;
    }
    const Side out = d.out_side;
    if (d.relayed_register)
        for (const auto& ev :
             note_relayed_register(req, source, settings_.policy, settings_.registrar, table_, now))
            log_registration(ev, ", relayed");
    if (!has_to_tag(req) && !MSG_IS_REGISTER(req) && !MSG_IS_CANCEL(req) && !MSG_IS_ACK(req) &&
        add_record_route(req, us, arrival, out) != 0) {
        respond(req, 500, arrival, source, nullptr, "Record-Route");
        return;
    }
    if (add_own_via(req, us.on(out), branch) != 0) {
        respond(req, 500, arrival, source, nullptr, "Via");
        return;
    }
    if (arrival == Side::Inside && out == Side::Outside) {
        const size_t before = contacts_.size();
        if (masquerade_contacts(req, us.outside, contacts_, source, now) < 0) {
            (void)pop_own_via(req, us);
            respond(req, 500, arrival, source, nullptr, "Contact");
            return;
        }
        if (contacts_.size() != before) dirty_ = true;
    } else if (arrival == Side::Outside && out == Side::Inside) {
        restore_contacts(req, us.outside, contacts_, table_, now);
    }
    transactions_[branch] = {arrival, now};

    const std::string call_id = call_key(call_id_of(req));
    if (MSG_IS_INVITE(req) && !has_to_tag(req) && calls_.find(call_id) == calls_.end()) {
        Call& c = calls_[call_id];
        c.call_id = call_id;
        c.created = now;
        c.from = uri_text(req->from);
        c.to = uri_text(req->to);
        c.inside_addr = arrival == Side::Inside ? source : *dest;
    }
    const bool ends = MSG_IS_BYE(req) || MSG_IS_CANCEL(req);
    const std::string method(osip_sv(req->sip_method));
    if (arrival != out && !ends && relay_media(msg, arrival, out, *dest, source, now)) return;
    send_message(msg.get(), out, *dest);
    if (ends) end_call(call_id, method.c_str());
}

void SipProxy::handle_response(OsipMessagePtr msg, Side arrival, const SockAddr& source,
                               int64_t now) {
    osip_message_t* resp = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    const int code = resp->status_code;
    ++responses_by_class_[std::to_string(code / 100) + "xx"];
    const std::string branch = branch_of_top_via(resp);
    if (!pop_own_via(resp, us)) {
        log_debug("response %d from %s dropped: top Via is not ours", code,
                  source.to_string().c_str());
        return;
    }
    const auto hp = response_next_hop(resp);
    if (!hp) return;
    const auto dest = resolve(*hp, "response next hop");
    if (!dest) return;
    Side out = Side::Outside;
    if (auto t = transactions_.find(branch); t != transactions_.end()) {
        out = t->second.arrival;
    } else {
        for (const Cidr& c : settings_.policy.inside_networks)
            if (c.contains(*dest)) out = Side::Inside;
    }
    const std::string method = cseq_method(resp);
    if (iequals(method, "REGISTER") && arrival == Side::Outside)
        for (const auto& ev : apply_registrar_response(resp, settings_.policy, table_, now))
            log_registration(ev, ", registrar's answer");
    if (arrival == Side::Inside && out == Side::Outside) {
        const size_t before = contacts_.size();
        if (masquerade_contacts(resp, us.outside, contacts_, source, now) < 0) return;
        if (contacts_.size() != before) dirty_ = true;
    } else if (arrival == Side::Outside && out == Side::Inside) {
        restore_contacts(resp, us.outside, contacts_, table_, now);
    }
    const std::string call_id = call_key(call_id_of(resp));
    bool failed_call = false;
    if (iequals(method, "INVITE")) {
        auto it = calls_.find(call_id);
        if (it != calls_.end()) {
            if (code >= 200 && code < 300) it->second.established = true;
            if (code >= 300 && !it->second.established) failed_call = true;
        }
    }
    if (arrival != out && code < 300 && relay_media(msg, arrival, out, *dest, source, now)) return;
    send_message(msg.get(), out, *dest);
    if (failed_call) end_call(call_id, ("final response " + std::to_string(code)).c_str());
}

// What rtpd is asked for one stream of a call: for a new stream, for a
// re-INVITE (same id and ports) and for a new rtpd after a restart.
MediaStart SipProxy::media_start(const CallStream& s, const std::string& call_id) const {
    MediaStart m;
    m.id = s.id;
    m.inside_local = settings_.inside_local;
    m.outside_local = settings_.outside_local;
    m.inside_local.set_port(0);
    m.outside_local.set_port(0);
    m.inside_peer = s.inside_peer;
    m.outside_peer = s.outside_peer;
    m.inside_port = s.inside_port;
    m.outside_port = s.outside_port;
    m.hold = s.hold;
    m.tag = call_id;
    return m;
}

uint32_t SipProxy::allocate_forward_id() {
    for (;;) {
        const uint32_t id = next_forward_id_++;
        if (next_forward_id_ == 0) next_forward_id_ = 1;
        if (id != 0 && forward_owner_.find(id) == forward_owner_.end()) return id;
    }
}

bool SipProxy::relay_media(OsipMessagePtr& msg, Side arrival, Side departure, const SockAddr& dest,
                           const SockAddr& source, int64_t /*now*/) {
    SdpMessagePtr sdp = sdp_of_message(msg.get());
    if (sdp == nullptr) return false;
    SdpInfo info;
    const std::vector<SockAddr> own = {settings_.inside_local, settings_.outside_local,
                                       settings_.outside_advertised};
    const SdpStatus st = sdp_inspect(sdp.get(), own, info);
    if (st == SdpStatus::NoMedia) return false;
    const bool is_request = MSG_IS_REQUEST(msg.get());
    const std::string call_id = call_key(call_id_of(msg.get()));
    if (st != SdpStatus::Ok) {
        std::string details =
            std::string("SDP refused (") + sdp_status_name(st) + ") in " + call_id;
        refused("bad-request", source, details.c_str(), "bad SDP");
        if (is_request && !MSG_IS_ACK(msg.get()) && pop_own_via(msg.get(), settings_.policy.us))
            respond(msg.get(), 488, arrival, source, nullptr, "bad SDP");
        // An offer refused before the call got anywhere leaves no call
        // behind: else each hostile INVITE would keep an entry for ever.
        if (auto it = calls_.find(call_id);
            it != calls_.end() && !it->second.established && !it->second.logged_start) {
            bool relayed = false;
            for (const CallStream& stream : it->second.streams) relayed = relayed || stream.id != 0;
            if (!relayed) calls_.erase(it);
        }
        return true;
    }
    auto p = std::make_shared<Pending>();
    p->arrival = arrival;
    p->departure = departure;
    p->dest = dest;
    p->source = source;
    p->call_id = call_id;
    p->is_request = is_request;
    p->targets.resize(info.media.size());

    Call& call = calls_[call_id];
    if (call.call_id.empty()) {
        call.call_id = call_id;
        call.from = uri_text(msg->from);
        call.to = uri_text(msg->to);
        call.inside_addr = arrival == Side::Inside ? source : dest;
    }
    std::vector<std::pair<size_t, MediaStart>> starts;
    for (const SdpMedia& m : info.media) {
        if (m.disabled) continue;
        const auto index = static_cast<size_t>(m.index);
        if (call.streams.size() <= index) call.streams.resize(index + 1);
        CallStream& s = call.streams[index];
        if (s.id == 0) {
            s.id = allocate_forward_id();
            forward_owner_[s.id] = call_id;
        }
        // On hold with c=0.0.0.0 the old peer stays: the ports must not move.
        if (!m.addr.is_unspecified())
            (arrival == Side::Inside ? s.inside_peer : s.outside_peer) = m.addr;
        s.hold = m.hold;
        starts.emplace_back(index, media_start(s, call_id));
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
            } else if (auto it = calls_.find(p->call_id);
                       it != calls_.end() && i < it->second.streams.size()) {
                CallStream& s = it->second.streams[i];
                s.inside_port = r.inside_local.port();
                s.outside_port = r.outside_local.port();
                RelayTarget t;
                if (p->departure == Side::Outside) {
                    t.rtp = settings_.outside_advertised;
                    t.rtp.set_port(s.outside_port);
                } else {
                    t.rtp = settings_.inside_local;
                    t.rtp.set_port(s.inside_port);
                }
                t.rtcp_port = static_cast<uint16_t>(t.rtp.port() + 1);
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

void SipProxy::finish_media(const std::shared_ptr<Pending>& p) {
    osip_message_t* msg = p->msg.get();
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
        if (p->is_request && !MSG_IS_ACK(msg) && pop_own_via(msg, settings_.policy.us)) {
            respond(msg, 503, p->arrival, p->source, nullptr, "no media relay");
        }
        if (!established) end_call(p->call_id, "media relay failed");
        return;
    }
    auto it = calls_.find(p->call_id);
    if (it != calls_.end() && !it->second.logged_start && !it->second.streams.empty()) {
        const CallStream& s = it->second.streams.front();
        if (s.inside_peer.valid() && s.outside_peer.valid()) {
            it->second.logged_start = true;
            log_notice(
                "call start: From %s To %s Call-ID %s inside %s relay ports inside %u outside %u",
                it->second.from.c_str(), it->second.to.c_str(), p->call_id.c_str(),
                addr_text(it->second.inside_addr).c_str(), s.inside_port, s.outside_port);
        }
    }
    send_message(msg, p->departure, p->dest);
}

void SipProxy::end_call(const std::string& call_id, const char* why) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    const Call& c = it->second;
    std::string ports;
    for (const CallStream& s : c.streams) {
        if (s.id == 0) continue;
        media_.stop(s.id);
        forward_owner_.erase(s.id);
        ports += " " + std::to_string(s.inside_port) + "/" + std::to_string(s.outside_port);
    }
    log_notice("call end: From %s To %s Call-ID %s inside %s relay ports%s (%s)", c.from.c_str(),
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
    s.hold = entry.hold;
    c.streams.push_back(s);
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
    for (auto it = transactions_.begin(); it != transactions_.end();) {
        if (now - it->second.created > kTransactionSeconds)
            it = transactions_.erase(it);
        else
            ++it;
    }
    // An INVITE that never got a final answer (RFC 3261 timer C: 3 minutes)
    // ends here; an answered call ends by BYE or by rtpd's timeouts.
    std::vector<std::string> unanswered;
    for (const auto& [call_id, c] : calls_)
        if (!c.established && c.created != 0 && now - c.created > kCallSetupSeconds)
            unanswered.push_back(call_id);
    for (const auto& call_id : unanswered) end_call(call_id, "never answered");
}

std::string SipProxy::registrations_text(bool json, int64_t now) const {
    std::string out;
    auto all = table_.all();
    if (json) {
        out = "[";
        bool first = true;
        for (const Binding* b : all) {
            if (!first) out += ",";
            first = false;
            out += "{\"aor\":\"" + json_escape(b->aor) + "\",\"contact\":\"" +
                   json_escape(b->contact) + "\",\"source\":\"" +
                   json_escape(addr_text(b->source)) + "\",\"masq_contact\":\"" +
                   json_escape(b->masq_contact) + "\",\"mode\":\"" + binding_mode_name(b->mode) +
                   "\",\"provisional\":" + (b->provisional ? "true" : "false") +
                   ",\"expires_in\":" + std::to_string(b->expires_at - now) + "}";
        }
        return out + "]\n";
    }
    out = "AOR CONTACT SOURCE MODE EXPIRES\n";
    for (const Binding* b : all)
        out += b->aor + " " + b->contact + " " + addr_text(b->source) + " " +
               binding_mode_name(b->mode) + (b->provisional ? "(pending)" : "") + " " +
               std::to_string(b->expires_at - now) + "s\n";
    return out;
}

std::string SipProxy::calls_text(bool json) const {
    std::string out;
    if (json) {
        out = "[";
        bool first = true;
        for (const auto& [id, c] : calls_) {
            if (!first) out += ",";
            first = false;
            out += "{\"call_id\":\"" + json_escape(id) + "\",\"from\":\"" + json_escape(c.from) +
                   "\",\"to\":\"" + json_escape(c.to) + "\",\"inside\":\"" +
                   json_escape(addr_text(c.inside_addr)) +
                   "\",\"established\":" + (c.established ? "true" : "false") + ",\"streams\":[";
            bool f2 = true;
            for (const CallStream& s : c.streams) {
                if (!f2) out += ",";
                f2 = false;
                out += "{\"id\":" + std::to_string(s.id) +
                       ",\"inside_port\":" + std::to_string(s.inside_port) +
                       ",\"outside_port\":" + std::to_string(s.outside_port) +
                       ",\"inside_peer\":\"" + addr_text(s.inside_peer) + "\",\"outside_peer\":\"" +
                       addr_text(s.outside_peer) + "\",\"hold\":" + (s.hold ? "true" : "false") +
                       "}";
            }
            out += "]}";
        }
        return out + "]\n";
    }
    out = "CALL-ID FROM TO INSIDE RELAY-PORTS\n";
    for (const auto& [id, c] : calls_) {
        out += id + " " + c.from + " " + c.to + " " + addr_text(c.inside_addr);
        for (const CallStream& s : c.streams)
            out += " " + std::to_string(s.inside_port) + "/" + std::to_string(s.outside_port);
        out += "\n";
    }
    return out;
}

std::string SipProxy::stats_text(bool json) const {
    auto section = [json](const std::map<std::string, uint64_t>& m) {
        std::string s;
        for (const auto& [k, v] : m) {
            if (json)
                s += (s.empty() ? "\"" : ",\"") + json_escape(k) + "\":" + std::to_string(v);
            else
                s += "  " + k + " " + std::to_string(v) + "\n";
        }
        return s;
    };
    if (json)
        return "{\"requests\":{" + section(requests_by_method_) + "},\"responses\":{" +
               section(responses_by_class_) + "},\"refusals\":{" + section(refusals_by_reason_) +
               "},\"unparseable\":" + std::to_string(unparseable_) +
               ",\"registrations\":" + std::to_string(table_.size()) +
               ",\"calls\":" + std::to_string(calls_.size()) + "}";
    return "requests:\n" + section(requests_by_method_) + "responses:\n" +
           section(responses_by_class_) + "refusals:\n" + section(refusals_by_reason_) +
           "unparseable " + std::to_string(unparseable_) + "\nregistrations " +
           std::to_string(table_.size()) + "\ncalls " + std::to_string(calls_.size()) + "\n";
}

}  // namespace sipmasq
