// The proxy core: a datagram in, its transaction found or made, the
// routing decision applied. Responses (proxy_responses.cpp), media
// (call_media.cpp) and the sipmasqctl reports (proxy_report.cpp) are the
// other parts of SipProxy.
#include "sip_proxy.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "clock.h"
#include "log.h"
#include "message_fields.h"
#include "precheck.h"
#include "proxy_rewrite.h"
#include "refer_to_masq.h"
#include "registrar.h"
#include "sip_response.h"

namespace sipmasq {

namespace {

constexpr size_t kMaxDetails = 120;

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

// Statistics count these by name and every other method as "other", so a
// flood of invented methods cannot grow the table.
constexpr std::string_view kKnownMethods[] = {
    "ACK",     "BYE",   "CANCEL",  "INFO",  "INVITE",   "MESSAGE",   "NOTIFY",
    "OPTIONS", "PRACK", "PUBLISH", "REFER", "REGISTER", "SUBSCRIBE", "UPDATE"};

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

SipProxy::SipProxy(SipProxySettings settings, MediaLink& media, Sender sender)
    : settings_(std::move(settings)),
      media_(media),
      sender_(std::move(sender)),
      transactions_(settings_.limits.transactions) {
    if (settings_.peers.inside_networks.empty()) {
        std::vector<SockAddr> adv;
        if (settings_.outside_advertised.valid()) adv.push_back(settings_.outside_advertised);
        settings_.peers =
            make_peer_policy(settings_.policy.inside_networks, {settings_.inside_local},
                             {settings_.outside_local}, adv);
    }
    if (!settings_.clock_ms) settings_.clock_ms = [] { return monotonic_ms(); };
    contacts_.set_capacity(settings_.limits.max_dialog_contacts);
    for (const std::string& host : settings_.provider_hosts)
        if (auto a = SockAddr::parse(host)) provider_addrs_.push_back(*a);
}

int64_t SipProxy::clock_ms() const {
    return settings_.clock_ms();
}

void SipProxy::count_request(std::string_view method) {
    for (std::string_view known : kKnownMethods)
        if (iequals(known, method)) {
            ++requests_by_method_[std::string(known)];
            return;
        }
    ++requests_by_method_["other"];
}

bool SipProxy::has_family(Side side, int family) const {
    const SockAddr& first = side == Side::Inside ? settings_.inside_local : settings_.outside_local;
    const SockAddr& other = side == Side::Inside ? settings_.inside_local_other_family
                                                 : settings_.outside_local_other_family;
    if (!first.valid()) return true;  // not told (a test's proxy): not ours to judge
    return first.family() == family || (other.valid() && other.family() == family);
}

bool SipProxy::is_provider(const SockAddr& source) const {
    for (const SockAddr& a : provider_addrs_)
        if (a.same_host(source)) return true;
    return false;
}

void SipProxy::handle_message(std::string_view data, Side arrival, Transport transport,
                              const SockAddr& source, int64_t now) {
    arrival_transport_ = transport;
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
// answer goes to the datagram's source. Never for an ACK, and rate-limited,
// so garbage cannot turn sipmasq into a reflector.
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
    send_response_to(resp.get(), arrival, source);
}

void SipProxy::refused(const char* event, const SockAddr& source, const char* details,
                       const char* reason) {
    ++refusals_by_reason_[reason];
    // Budgeted per source: one noisy source cannot hide another's lines.
    uint64_t suppressed = 0;
    if (!security_log_.allow(source, monotonic_ms(), suppressed)) return;
    std::string line = security_line(event, source, details);
    if (suppressed > 0) line += " (" + std::to_string(suppressed) + " similar suppressed)";
    log_notice("%s", line.c_str());
}

// The one send-side policy: whatever a header said, a message goes only to
// a peer the policy allows on that side, over UDP or TCP alike.
bool SipProxy::send_bytes(Side side, Transport transport, const SockAddr& dest,
                          std::string_view data, const char* what) {
    if (const char* why = settings_.peers.refuse(side, dest)) {
        ++refusals_by_reason_["destination"];
        uint64_t suppressed = 0;
        if (send_refused_log_.allow(monotonic_ms(), suppressed))
            log_warning("not sending %s to %s on the %s: %s (%" PRIu64 " similar suppressed)", what,
                        addr_text(dest).c_str(), side_name(side), why, suppressed);
        return false;
    }
    if (transport == Transport::Tcp) {
        if (settings_.tcp_sender && settings_.tcp_sender(side, dest, data)) return true;
        ++refusals_by_reason_["tcp"];
        uint64_t suppressed = 0;
        if (send_refused_log_.allow(monotonic_ms(), suppressed))
            log_warning("cannot send %s to %s over TCP on the %s (%" PRIu64 " similar suppressed)",
                        what, addr_text(dest).c_str(), side_name(side), suppressed);
        return false;
    }
    sender_(side, dest, data);
    return true;
}

void SipProxy::send_message(osip_message_t* msg, Side side, Transport transport,
                            const SockAddr& dest) {
    const std::string text = sip_message_to_string(msg);
    if (text.empty()) {
        log_error("could not serialise a message for %s", dest.to_string().c_str());
        return;
    }
    (void)send_bytes(side, transport, dest, text, MSG_IS_REQUEST(msg) ? "a request" : "a response");
}

void SipProxy::send_request(osip_message_t* msg, const std::string& ct_key) {
    ClientTransaction* ct = transactions_.find_client(ct_key);
    if (ct == nullptr) return;  // ended meanwhile (CANCEL, timeout)
    std::string text = sip_message_to_string(msg);
    if (text.empty()) {
        log_error("could not serialise a request for %s", ct->dest.to_string().c_str());
        return;
    }
    if (!send_bytes(ct->side, ct->transport, ct->dest, text, "a request")) {
        // TCP could not even start a connection: a transport error, 503 now.
        if (ct->transport == Transport::Tcp && !settings_.peers.refuse(ct->side, ct->dest)) {
            transactions_.set_request(*ct, std::move(text));
            fail_client(ct_key, 503, "TCP connection failed");
        }
        return;
    }
    const int64_t now = clock_ms();
    ct->interval_ms = kT1Ms;
    // Timer A / E: UDP only, TCP is reliable (RFC 3261 §17.1.1.2); B / F.
    transactions_.set_timers(*ct, ct->transport == Transport::Udp ? now + kT1Ms : 0,
                             now + kTimerBMs);
    transactions_.set_request(*ct, std::move(text));
    if (settings_.timers_changed) settings_.timers_changed();
}

void SipProxy::send_response(osip_message_t* resp, const std::string& st_key) {
    ServerTransaction* st = transactions_.find_server(st_key);
    if (st == nullptr) return;
    std::string text = sip_message_to_string(resp);
    if (text.empty()) return;
    ++responses_by_class_[std::to_string(resp->status_code / 100) + "xx-sent"];
    (void)send_bytes(st->side, st->transport, st->source, text, "a response");
    const int status = resp->status_code;
    transactions_.set_response(*st, status, std::move(text));
    if (status >= 200) finish_server(*st, status);
}

// RFC 3261 §17.2.1/2 and RFC 6026: after a final answer the transaction
// stays a while to absorb retransmissions; a non-2xx to an INVITE is sent
// again (timer G) until its ACK comes.
void SipProxy::finish_server(ServerTransaction& st, int status) {
    const int64_t now = clock_ms();
    transactions_.mark_completed(st);
    const bool timer_g =
        st.method == "INVITE" && status >= 300 && !st.acked && st.transport == Transport::Udp;
    st.interval_ms = kT1Ms;
    transactions_.set_timers(st, timer_g ? now + kT1Ms : 0, now + kTimerBMs);
    if (settings_.timers_changed) settings_.timers_changed();
}

void SipProxy::send_response_to(osip_message_t* resp, Side arrival, const SockAddr& source) {
    ++responses_by_class_[std::to_string(resp->status_code / 100) + "xx-sent"];
    send_message(resp, arrival, arrival_transport_, source);
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
    const std::string key = server_transaction_key(req);
    if (ServerTransaction* st = transactions_.find_server(key);
        st != nullptr && st->side == arrival && st->source == source) {
        // One final answer per transaction: a branch whose media setup ends
        // after a CANCEL (or another branch) answered adds none.
        if (st->last_status >= 200) return;
        if (status >= 300)
            for (const std::string& branch : st->client_keys) transactions_.remove_client(branch);
        send_response(resp.get(), key);
        return;
    }
    send_response_to(resp.get(), arrival, source);
}

bool SipProxy::authenticated(const osip_message_t* req, Side arrival, const SockAddr& source,
                             int64_t now, const std::string& st_key) {
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
    if (transactions_.find_server(st_key) != nullptr)
        send_response(resp.get(), st_key);
    else
        send_response_to(resp.get(), arrival, source);
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
    count_request(osip_sv(req->sip_method));
    stamp_received_rport(req, source);
    if (req->call_id == nullptr || req->cseq == nullptr || req->from == nullptr ||
        req->to == nullptr || osip_list_size(&req->vias) < 1 || req->req_uri == nullptr) {
        respond(req, 400, arrival, source, "bad-request", "missing mandatory header");
        return;
    }
    if (!iequals(cseq_method(req), osip_sv(req->sip_method)) && !MSG_IS_ACK(req)) {
        respond(req, 400, arrival, source, "bad-request", "CSeq method mismatch");
        return;
    }
    const std::string key = server_transaction_key(req);

    if (MSG_IS_ACK(req)) {
        // The ACK of a non-2xx answer ends its INVITE transaction here (hop
        // by hop); the ACK of a 2xx is a request of its own (below).
        if (ServerTransaction* st = transactions_.find_server(key);
            st != nullptr && st->side == arrival && st->source == source &&
            st->last_status >= 300) {
            st->acked = true;
            transactions_.set_timers(*st, 0, clock_ms() + kT2Ms);  // timer I
            return;
        }
    } else if (MSG_IS_CANCEL(req)) {
        handle_cancel(req, arrival, source);
        return;
    } else if (ServerTransaction* st = transactions_.find_server(key)) {
        // A retransmission: the last answer again, from its transaction.
        if (st->side == arrival && st->source == source && !st->last_response.empty())
            (void)send_bytes(st->side, st->transport, st->source, st->last_response, "a response");
        return;
    } else {
        switch (transactions_.admit(source, is_provider(source))) {
            case TransactionTable::Admission::Ok:
                break;
            case TransactionTable::Admission::Full:
                refused("request-limit", source, "transaction table full: request dropped",
                        "transactions full");
                return;
            case TransactionTable::Admission::SourceBudget:
                refused("request-limit", source,
                        "too many transactions from this source: request dropped", "source budget");
                return;
        }
        ServerTransaction fresh;
        fresh.key = key;
        fresh.method = ascii_upper(osip_sv(req->sip_method));
        fresh.side = arrival;
        fresh.transport = arrival_transport_;
        fresh.source = source;
        fresh.expires_at_ms =
            clock_ms() + (fresh.method == "INVITE" ? kTimerCMs + 2 * kTimerBMs : 3 * kTimerBMs);
        transactions_.add_server(std::move(fresh));
    }

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
    // A keep-alive ping to sipmasq itself (an OPTIONS whose Request-URI
    // names one of our hosts and no user): answered 200, logged nowhere.
    if (MSG_IS_OPTIONS(req) && req->req_uri->username == nullptr &&
        (us.is_own_host(osip_sv(req->req_uri->host)) ||
         iequals(settings_.policy.public_host, osip_sv(req->req_uri->host))) &&
        osip_list_size(&req->routes) == 0) {
        if (OsipMessagePtr ok = build_response(req, 200)) {
            osip_message_set_allow(ok.get(), "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER");
            send_response(ok.get(), key);
        }
        return;
    }
    // PRACK and UPDATE live only in an INVITE dialog sipmasq carries (RFC
    // 3262, 3311): outside one they are answered 481, never routed.
    if (MSG_IS_PRACK(req) || MSG_IS_UPDATE(req)) {
        auto it = calls_.find(call_key(call_id_of(req)));
        if (it == calls_.end() || !in_dialog(it->second, req, arrival, source)) {
            respond(req, 481, arrival, source,
                    arrival == Side::Outside ? "relay-refused" : "bad-request", "not in dialog");
            return;
        }
    }
    const RouteDecision d =
        route_request(settings_.policy, req, arrival, source, table_, contacts_, now);
    switch (d.action) {
        case RouteAction::Drop:
            if (d.status == 0)
                refused("acl-refused", source, d.reason, "acl");
            else
                log_debug("ACK dropped (%s) from %s", d.reason, source.to_string().c_str());
            if (!MSG_IS_ACK(req)) transactions_.remove_server(key);
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
            if (!authenticated(req, arrival, source, now, key)) return;
            RegisterOutcome out =
                handle_register(req, source, settings_.policy, settings_.registrar, table_, now);
            for (const auto& ev : out.events) log_registration(ev, "");
            if (out.response == nullptr) return;
            if (out.error[0] != '\0') {
                std::string details = std::string(out.error) + ": " + uri_text(req->to);
                refused("register-refused", source, details.c_str(), out.error);
            }
            send_response(out.response.get(), key);
            return;
        }
        case RouteAction::Forward:
            break;
    }
    // The outside interface has no usable address (down, no lease yet):
    // nothing can leave on that side until one comes.
    if (d.out_side == Side::Outside && !settings_.outside_local.valid()) {
        log_info("%s from %s not sent: no outside address yet", req->sip_method,
                 addr_text(source).c_str());
        if (!MSG_IS_ACK(req)) respond(req, 503, arrival, source, nullptr, "no outside address");
        return;
    }

    if (d.forks.size() > 1 && MSG_IS_INVITE(req)) {
        if (OsipMessagePtr trying = build_response(req, 100)) send_response(trying.get(), key);
        fork_request(std::move(msg), d, key, arrival, source, now);
        return;
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
    // INVITE: 100 Trying at once (§16.2), so the caller stops retransmitting
    // and this transaction does it toward the next hop instead.
    if (MSG_IS_INVITE(req))
        if (OsipMessagePtr trying = build_response(req, 100)) send_response(trying.get(), key);
    const bool stateless = MSG_IS_ACK(req);
    if (auto numeric = SockAddr::parse(d.next_hop.host)) {
        numeric->set_port(d.next_hop.port);
        RouteDecision hop = d;
        if (d.flow.valid() && settings_.tcp_connected &&
            settings_.tcp_connected(d.out_side, d.flow)) {
            // The phone's own connection (it may sit behind a NAT, and its
            // Contact may not say transport=tcp).
            *numeric = d.flow;
            hop.transport = Transport::Tcp;
        }
        if (stateless)
            forward_stateless(std::move(msg), hop, branch, arrival, source, *numeric, now);
        else
            forward_request(std::move(msg), hop, branch, key, arrival, source, *numeric, now);
        return;
    }
    if (settings_.resolver == nullptr) {
        log_warning("next hop %s: a name, and no resolver", d.next_hop.to_string().c_str());
        if (!stateless) respond(req, 503, arrival, source, nullptr, "no DNS");
        return;
    }
    // Held until the name resolves; the message and decision travel along.
    auto held = std::make_shared<OsipMessagePtr>(std::move(msg));
    const bool provider_hop = [&] {
        for (const std::string& h : settings_.provider_hosts)
            if (iequals(h, d.next_hop.host)) return true;
        return false;
    }();
    const Transport transport = arrival_transport_;
    settings_.resolver->resolve_hop(
        d.next_hop, d.transport,
        [this, held, d, branch, key, arrival, source, now, stateless, provider_hop, transport](
            std::optional<SockAddr> addr, const char* error) {
            arrival_transport_ = transport;
            osip_message_t* m = held->get();
            if (!addr) {
                log_warning("next hop %s: %s; %s %s %s", d.next_hop.to_string().c_str(), error,
                            osip_sv(m->sip_method).data(), call_id_of(m).c_str(),
                            stateless ? "dropped" : "answered 504");
                if (!stateless) respond(m, 504, arrival, source, nullptr, "DNS failed");
                return;
            }
            if (addr->port() == 0) addr->set_port(d.next_hop.port);  // else SRV's
            // A provider's name: its address earns the provider's budget.
            if (provider_hop && !is_provider(*addr) && provider_addrs_.size() < 16)
                provider_addrs_.push_back(*addr);
            if (stateless)
                forward_stateless(std::move(*held), d, branch, arrival, source, *addr, now);
            else
                forward_request(std::move(*held), d, branch, key, arrival, source, *addr, now);
        });
}

// CANCEL (§16.10): answered 200 here, and sent on the INVITE's client
// transaction once that has had a provisional answer. Only the source of
// the INVITE may cancel it.
void SipProxy::handle_cancel(const osip_message_t* cancel, Side arrival, const SockAddr& source) {
    const std::string invite_key = cancelled_invite_key(cancel);
    ServerTransaction* st = transactions_.find_server(invite_key);
    if (st == nullptr || st->side != arrival || !(st->source == source)) {
        if (OsipMessagePtr resp = build_response(cancel, 481))
            send_response_to(resp.get(), arrival, source);
        return;
    }
    if (OsipMessagePtr ok = build_response(cancel, 200))
        send_response_to(ok.get(), arrival, source);
    if (st->last_status >= 200) return;
    const bool sent = std::any_of(
        st->client_keys.begin(), st->client_keys.end(), [this](const std::string& branch) {
            const ClientTransaction* ct = transactions_.find_client(branch);
            return ct != nullptr && !ct->request.empty();
        });
    if (!sent) {
        // Not sent on yet (a name being looked up, media being set up): the
        // INVITE ends here with 487.
        if (OsipMessagePtr resp = build_response(cancel, 487)) {
            osip_free(resp->cseq->method);
            resp->cseq->method = osip_dup("INVITE");
            for (const std::string& branch : st->client_keys) transactions_.remove_client(branch);
            send_response(resp.get(), invite_key);
        }
        end_call(call_key(call_id_of(cancel)), "CANCEL");
        return;
    }
    // Every branch: those that rang now, the others at their first answer.
    cancel_branches(*st, "");
}

void SipProxy::forward_request(OsipMessagePtr msg, const RouteDecision& d,
                               const std::string& branch, const std::string& st_key, Side arrival,
                               const SockAddr& source, const SockAddr& dest, int64_t now) {
    osip_message_t* req = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    ServerTransaction* st = transactions_.find_server(st_key);
    if (st == nullptr || st->last_status >= 200) return;  // cancelled or expired meanwhile
    const Side out = d.out_side;
    if (us.is_own_address(dest) && dest.port() == us.on(out, dest).port) {
        respond(req, 482, arrival, source, "loop", "next hop is us");
        return;
    }
    if (!has_family(out, dest.family())) {
        // RFC 5118 §4: nothing to send it from; a transport error, at once.
        log_info("%s %s: next hop %s, and the %s has no address of that family: 503",
                 osip_sv(req->sip_method).data(), call_id_of(req).c_str(), addr_text(dest).c_str(),
                 side_name(out));
        respond(req, 503, arrival, source, nullptr, "no address of that family");
        return;
    }
    if (const char* why = settings_.peers.refuse(out, dest)) {
        const std::string details = std::string("next hop ") + addr_text(dest) + ": " + why;
        refused(arrival == Side::Outside ? "relay-refused" : "bad-request", source, details.c_str(),
                "destination");
        respond(req, 403, arrival, source, nullptr, "destination");
        return;
    }
    const std::string call_id = call_key(call_id_of(req));
    const bool initial_invite = MSG_IS_INVITE(req) && !has_to_tag(req);
    // A re-INVITE too: only the call's own dialog and hop may change its media.
    if (MSG_IS_INVITE(req) || MSG_IS_BYE(req)) {
        auto it = calls_.find(call_id);
        if (it != calls_.end() && !in_dialog(it->second, req, arrival, source)) {
            refused(arrival == Side::Outside ? "relay-refused" : "bad-request", source,
                    ("not of the dialog of call " + call_id).c_str(), "not in dialog");
            respond(req, 481, arrival, source, nullptr, "not in dialog");
            return;
        }
        if (initial_invite && it == calls_.end()) {
            const char* why = "";
            Call* call = open_call(req, arrival, source, dest, now, &why);
            if (call == nullptr) {
                const std::string details = std::string(why) + ": call " + call_id;
                refused("call-limit", source, details.c_str(), "call limit");
                respond(req, 503, arrival, source, nullptr, why);
                return;
            }
            call->caller_side = arrival;
            call->callee_side = out;
        }
    }
    if (d.relayed_register)
        for (const auto& ev :
             note_relayed_register(req, source, settings_.policy, settings_.registrar, table_, now))
            log_registration(ev, ", relayed");
    if (!has_to_tag(req) && !MSG_IS_REGISTER(req) &&
        add_record_route(req, us, {arrival, arrival_transport_, source},
                         {out, d.transport, dest}) != 0) {
        respond(req, 500, arrival, source, nullptr, "Record-Route");
        return;
    }
    if (add_own_via(req, us.on(out, dest), branch, d.transport) != 0) {
        respond(req, 500, arrival, source, nullptr, "Via");
        return;
    }
    if (arrival == Side::Inside && out == Side::Outside) {
        const size_t before = contacts_.size();
        const HostPort& toward = us.on(out, dest);
        if (masquerade_contacts(req, toward, contacts_, source, now) < 0 ||
            masquerade_refer_to(req, us, toward, settings_.peers, contacts_, table_, now) ==
                ReferToChange::Failed) {
            (void)pop_own_via(req, us);
            respond(req, 500, arrival, source, nullptr, "Contact");
            return;
        }
        if (contacts_.size() != before) dirty_ = true;
    } else if (arrival == Side::Outside && out == Side::Inside) {
        const HostPort& toward = us.on(arrival, source);
        restore_contacts(req, toward, contacts_, table_, now);
        (void)restore_refer_to(req, toward, contacts_, table_, now);
    }
    apply_header_fixes(req, settings_.fixes.headers, out);
    ClientTransaction ct;
    ct.branch = branch;
    ct.method = ascii_upper(osip_sv(req->sip_method));
    ct.key = client_transaction_key(branch, ct.method);
    ct.side = out;
    ct.transport = d.transport;
    ct.dest = dest;
    ct.server_key = st_key;
    ct.expires_at_ms = clock_ms() + kTimerBMs;
    const std::string ct_key = ct.key;
    transactions_.add_client(std::move(ct));
    if (!transactions_.add_branch(*transactions_.find_server(st_key), ct_key)) {
        transactions_.remove_client(ct_key);  // kMaxBranches: routing never asks for more
        return;
    }

    const bool bye = MSG_IS_BYE(req);
    if (arrival != out && !bye &&
        relay_media(msg, arrival, out, d.transport, dest, source, ct_key, now))
        return;
    send_request(msg.get(), ct_key);
    if (bye)
        if (auto it = calls_.find(call_id); it != calls_.end() && bye_ends_call(it->second, req))
            end_call(call_id, "BYE");
}

// The ACK of a 2xx goes end to end: no transaction, no answer; it may carry
// the SDP answer of an offer made in the 2xx.
void SipProxy::forward_stateless(OsipMessagePtr msg, const RouteDecision& d,
                                 const std::string& branch, Side arrival, const SockAddr& source,
                                 const SockAddr& dest, int64_t now) {
    osip_message_t* req = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    const Side out = d.out_side;
    if (us.is_own_address(dest) && dest.port() == us.on(out, dest).port) return;
    const std::string call_id = call_key(call_id_of(req));
    auto it = calls_.find(call_id);
    // From outside, an ACK goes in only for a call sipmasq knows (it has no
    // transaction to budget it by).
    if (arrival == Side::Outside && it == calls_.end()) {
        ++refusals_by_reason_["ACK without a call"];
        log_debug("ACK from %s for no call dropped", source.to_string().c_str());
        return;
    }
    if (it != calls_.end() && !in_dialog(it->second, req, arrival, source)) {
        refused(arrival == Side::Outside ? "relay-refused" : "bad-request", source,
                ("ACK not of the dialog of call " + call_id).c_str(), "not in dialog");
        return;
    }
    if (add_own_via(req, us.on(out, dest), branch, d.transport) != 0) return;
    if (arrival == Side::Inside && out == Side::Outside) {
        const size_t before = contacts_.size();
        if (masquerade_contacts(req, us.on(out, dest), contacts_, source, now) < 0) return;
        if (contacts_.size() != before) dirty_ = true;
    } else if (arrival == Side::Outside && out == Side::Inside) {
        restore_contacts(req, us.on(arrival, source), contacts_, table_, now);
    }
    apply_header_fixes(req, settings_.fixes.headers, out);
    if (arrival != out && relay_media(msg, arrival, out, d.transport, dest, source, "", now))
        return;
    send_message(msg.get(), out, d.transport, dest);
}

}  // namespace sipmasq
