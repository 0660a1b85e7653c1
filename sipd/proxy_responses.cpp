// Responses and the transaction timers of SipProxy. A response is forwarded
// only when it matches a live client transaction of ours, arrives on the
// side that transaction went to and comes from the address it was sent to;
// it then goes to the source of the matching server transaction, never to
// an address a header names.
#include <cinttypes>
#include <cstring>

#include "client_requests.h"
#include "log.h"
#include "message_fields.h"
#include "proxy_rewrite.h"
#include "registrar.h"
#include "sip_proxy.h"
#include "sip_response.h"

namespace sipmasq {

void SipProxy::handle_response(OsipMessagePtr msg, Side arrival, const SockAddr& source,
                               int64_t now) {
    osip_message_t* resp = msg.get();
    const ProxyAddresses& us = settings_.policy.us;
    const int code = resp->status_code;
    ++responses_by_class_[std::to_string(code / 100) + "xx"];
    const std::string method = ascii_upper(cseq_method(resp));
    const std::string ct_key = client_transaction_key(branch_of_top_via(resp), method);
    ClientTransaction* ct = transactions_.find_client(ct_key);
    const auto* top = static_cast<const osip_via_t*>(osip_list_get(&resp->vias, 0));
    // The address, not the port: a next hop may answer from another socket
    // of its own (RFC 3261 sends responses to the Via, from anywhere); over
    // TCP, the connection it went on.
    if (ct == nullptr || !is_own_via(top, us) || ct->side != arrival ||
        ct->transport != arrival_transport_ || !ct->dest.same_host(source)) {
        const std::string details =
            std::to_string(code) + " " + method +
            (ct == nullptr ? " matches no transaction of ours"
                           : " from another address or transport than the request went to");
        refused("forged-response", source, details.c_str(), "forged response");
        return;
    }
    const bool invite = method == "INVITE";
    if (ct->server_key.empty()) {  // our own CANCEL: its answer ends here
        if (code >= 200) {
            transactions_.set_timers(*ct, 0, ct->expires_at_ms);
            ct->last_status = code;
        }
        return;
    }
    if (ct->last_status >= 200) {
        // A retransmitted final answer: a non-2xx gets our ACK again; a 2xx
        // (again, or from another fork) goes on, as RFC 6026 says.
        if (invite && code >= 300) send_ack_for(*ct, resp);
        if (!invite || code < 200 || code >= 300) return;
    }
    ServerTransaction* st = transactions_.find_server(ct->server_key);
    if (st == nullptr) return;
    const int64_t now_ms = clock_ms();
    if (code < 200) {
        if (ct->last_status < 200) ct->last_status = std::max(ct->last_status, code);
        if (invite) {
            // Timer A stops at the first provisional; timer C runs.
            transactions_.set_timers(*ct, 0, now_ms + kTimerCMs);
        } else {
            ct->interval_ms = kT2Ms;
        }
        if (ct->cancel_wanted) send_cancel_for(*ct);
        if (code == 100) return;  // hop by hop: ours went upstream already
        // Another branch's final answer went up: the caller is past ringing.
        if (st->last_status >= 200) return;
    } else if (ct->last_status < 200) {
        ct->last_status = code;
        transactions_.set_timers(*ct, 0, now_ms + kTimerBMs);
        if (invite && code >= 300) send_ack_for(*ct, resp);
    }
    if (!pop_own_via(resp, us)) return;
    const std::string st_key = st->key;
    const Side out = st->side;
    const SockAddr dest = st->source;
    if (iequals(method, "REGISTER") && arrival == Side::Outside)
        for (const auto& ev : apply_registrar_response(resp, settings_.policy, table_, now))
            log_registration(ev, ", registrar's answer");
    if (arrival == Side::Inside && out == Side::Outside) {
        const size_t before = contacts_.size();
        if (masquerade_contacts(resp, us.on(out, dest), contacts_, source, now) < 0) return;
        if (contacts_.size() != before) dirty_ = true;
    } else if (arrival == Side::Outside && out == Side::Inside) {
        restore_contacts(resp, us.on(arrival, source), contacts_, table_, now);
    }
    apply_header_fixes(resp, settings_.fixes.headers, out);
    if (invite && code >= 300) {
        // One branch failed: the response context picks what goes upstream.
        collect_final(st_key, std::move(msg));
        return;
    }
    if (invite) {
        const std::string call_id = call_key(call_id_of(resp));
        if (auto it = calls_.find(call_id); it != calls_.end() && code > 100) {
            Call& call = it->second;
            const std::string tag = tag_of(resp->to);
            note_fork(call, tag);
            // The first tag names the dialog while it rings; the first 2xx
            // names the one that counts (perhaps another fork's).
            if (!call.established && call.to_tag.empty()) call.to_tag = tag;
            if (code >= 200 && !call.established) {
                choose_fork(call, tag, source);
                call_established(call);
            }
        }
        // A 2xx ends the other branches (§16.7 step 10).
        if (code >= 200) cancel_branches(*st, ct_key);
    }
    if (arrival != out && code < 300 &&
        relay_media(msg, arrival, out, st->transport, dest, source, st_key, now))
        return;
    send_response(msg.get(), st_key);
}

void SipProxy::send_ack_for(const ClientTransaction& ct, const osip_message_t* resp) {
    OsipMessagePtr invite = parse_sip_message(ct.request);
    OsipMessagePtr ack = build_ack(invite.get(), resp);
    if (ack == nullptr) return;
    send_message(ack.get(), ct.side, ct.transport, ct.dest);
}

void SipProxy::send_cancel_for(ClientTransaction& ct) {
    ct.cancel_wanted = false;
    if (ct.cancelled || ct.last_status >= 200) return;
    ct.cancelled = true;
    OsipMessagePtr invite = parse_sip_message(ct.request);
    OsipMessagePtr cancel = build_cancel(invite.get());
    if (cancel == nullptr) return;
    ClientTransaction c;
    c.branch = ct.branch;
    c.method = "CANCEL";
    c.key = client_transaction_key(ct.branch, "CANCEL");
    c.side = ct.side;
    c.transport = ct.transport;
    c.dest = ct.dest;
    // No server transaction: the caller's CANCEL was answered already. The
    // CANCEL's own transaction ends with its INVITE's.
    const std::string key = c.key;
    transactions_.add_client(std::move(c));
    send_request(cancel.get(), key);
}

void SipProxy::run_timers() {
    const int64_t now = clock_ms();
    const TransactionTable::Due due = transactions_.due(now);
    for (const std::string& key : due.client_retransmit) {
        ClientTransaction* ct = transactions_.find_client(key);
        if (ct == nullptr || ct->request.empty()) continue;
        (void)send_bytes(ct->side, ct->transport, ct->dest, ct->request, "a retransmission");
        ct->interval_ms =
            ct->method == "INVITE" ? ct->interval_ms * 2 : std::min(ct->interval_ms * 2, kT2Ms);
        transactions_.set_timers(*ct, now + ct->interval_ms, ct->expires_at_ms);
    }
    for (const std::string& key : due.server_retransmit) {
        ServerTransaction* st = transactions_.find_server(key);
        if (st == nullptr || st->last_response.empty()) continue;
        (void)send_bytes(st->side, st->transport, st->source, st->last_response,
                         "a retransmission");
        st->interval_ms = std::min(st->interval_ms * 2, kT2Ms);
        transactions_.set_timers(*st, now + st->interval_ms, st->expires_at_ms);
    }
    // Timer B/F, or C for an INVITE that rang too long.
    for (const std::string& key : due.client_expired)
        fail_client(key, 408, "no final answer in time");
    for (const std::string& key : due.server_expired) transactions_.remove_server(key);
}

void SipProxy::fail_client(const std::string& key, int status, const char* why) {
    ClientTransaction* ct = transactions_.find_client(key);
    if (ct == nullptr) return;
    const std::string st_key = ct->server_key;
    ServerTransaction* st = st_key.empty() ? nullptr : transactions_.find_server(st_key);
    const bool invite = ct->method == "INVITE";
    if (st != nullptr && ct->last_status < 200) {
        // The next hop is cancelled, and the branch counts as `status`
        // (§16.7 step 2; a transport error as a 503, §16.9).
        if (invite && ct->last_status >= 100) send_cancel_for(*ct);
        ct->last_status = status;
        OsipMessagePtr req = parse_sip_message(ct->request);
        if (req != nullptr && pop_own_via(req.get(), settings_.policy.us)) {
            log_info("%s %s to %s%s: %s, %d", ct->method.c_str(), call_id_of(req.get()).c_str(),
                     addr_text(ct->dest).c_str(), ct->transport == Transport::Tcp ? " (TCP)" : "",
                     why, status);
            if (OsipMessagePtr resp = build_response(req.get(), status)) {
                if (invite)
                    collect_final(st_key, std::move(resp));
                else
                    send_response(resp.get(), st_key);
            }
        }
    }
    transactions_.remove_client(key);
    if (invite && !st_key.empty()) send_chosen_answer(st_key);
}

void SipProxy::transport_failed(Side side, const SockAddr& peer) {
    for (const std::string& key : transactions_.unanswered_clients_to(side, Transport::Tcp, peer))
        fail_client(key, 503, "TCP connection failed");
}

}  // namespace sipmasq
