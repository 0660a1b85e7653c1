// sipmasq as a forking proxy (RFC 3261 §16.6-16.7): an INVITE for an AOR
// with several live contacts rings all of them, one client transaction
// per branch; the response context sends a 2xx upstream at once (every
// 2xx), and otherwise the best final answer once every branch has one;
// the first 2xx or a 6xx cancels the branches still ringing. Only a call
// to a registered AOR forks, into at most its contacts (kMaxForkTargets).
#include <cstring>

#include "log.h"
#include "message_fields.h"
#include "proxy_rewrite.h"
#include "response_context.h"
#include "sip_proxy.h"
#include "sip_response.h"

namespace sipmasq {

static_assert(kMaxForkTargets <= kMaxBranches, "a fork target needs a branch");

void SipProxy::fork_request(OsipMessagePtr msg, const RouteDecision& d, const std::string& st_key,
                            Side arrival, const SockAddr& source, int64_t now) {
    const ProxyAddresses& us = settings_.policy.us;
    size_t branches = 0;
    for (const ForkTarget& target : d.forks) {
        ServerTransaction* st = transactions_.find_server(st_key);
        if (st == nullptr || st->last_status >= 200) return;  // answered (refused) meanwhile
        // A contact that cannot be reached is left out, not answered: the
        // other branches go on (to_inside gives numeric hops only).
        auto dest = SockAddr::parse(target.next_hop.host);
        if (!dest) continue;
        dest->set_port(target.next_hop.port);
        if (target.transport == Transport::Tcp && target.flow.valid() && settings_.tcp_connected &&
            settings_.tcp_connected(d.out_side, target.flow))
            *dest = target.flow;
        if ((us.is_own_address(*dest) && dest->port() == us.on(d.out_side).port) ||
            settings_.peers.refuse(d.out_side, *dest) != nullptr) {
            log_notice("fork of %s to %s left out: not a usable next hop",
                       call_id_of(msg.get()).c_str(), addr_text(*dest).c_str());
            continue;
        }
        osip_message_t* raw = nullptr;
        if (osip_message_clone(msg.get(), &raw) != 0 || raw == nullptr) continue;
        OsipMessagePtr copy(raw);
        OsipUriPtr uri = parse_uri(target.new_request_uri);
        if (uri == nullptr) continue;
        osip_uri_free(copy->req_uri);
        copy->req_uri = uri.release();
        RouteDecision one = d;
        one.forks.clear();
        one.next_hop = target.next_hop;
        one.transport = target.transport;
        one.flow = target.flow;
        one.new_request_uri = target.new_request_uri;
        // The Request-URI is part of the hash: each branch has its own.
        const std::string branch = compute_branch(copy.get(), us);
        forward_request(std::move(copy), one, branch, st_key, arrival, source, *dest, now);
        ++branches;
    }
    if (branches == 0) respond(msg.get(), 480, arrival, source, nullptr, "no usable contact");
}

void SipProxy::cancel_branches(ServerTransaction& st, const std::string& except) {
    const std::vector<std::string> keys = st.client_keys;
    for (const std::string& key : keys) {
        if (key == except) continue;
        ClientTransaction* ct = transactions_.find_client(key);
        if (ct == nullptr || ct->last_status >= 200 || ct->cancelled) continue;
        if (ct->request.empty())
            transactions_.remove_client(key);  // not sent yet, and now never
        else if (ct->last_status >= 100)
            send_cancel_for(*ct);
        else
            ct->cancel_wanted = true;  // §9.1: only once it has answered
    }
}

void SipProxy::collect_final(const std::string& st_key, OsipMessagePtr resp) {
    ServerTransaction* st = transactions_.find_server(st_key);
    if (st == nullptr || st->last_status >= 200) return;  // a 2xx (or our answer) went already
    const int code = resp->status_code;
    const auto challenge = [](int status) { return status == 401 || status == 407; };
    if (better_final_answer(code, st->best_status)) {
        std::string text = sip_message_to_string(resp.get());
        if (!text.empty()) transactions_.set_best_response(*st, code, std::move(text));
    } else if (challenge(code) && challenge(st->best_status)) {
        OsipMessagePtr best = parse_sip_message(st->best_response);
        if (best != nullptr && merge_challenges(best.get(), resp.get())) {
            std::string text = sip_message_to_string(best.get());
            if (!text.empty())
                transactions_.set_best_response(*st, st->best_status, std::move(text));
        }
    }
    // A 6xx: no branch can do better; the others are cancelled (§16.7 step 5).
    if (code >= 600) cancel_branches(*st, "");
    send_chosen_answer(st_key);
}

void SipProxy::send_chosen_answer(const std::string& st_key) {
    ServerTransaction* st = transactions_.find_server(st_key);
    if (st == nullptr || st->last_status >= 200 || st->best_status == 0 ||
        !transactions_.all_branches_final(*st))
        return;
    OsipMessagePtr resp = parse_sip_message(st->best_response);
    transactions_.set_best_response(*st, st->best_status, std::string());
    if (resp == nullptr) return;
    const int status = upstream_status(resp->status_code);
    if (status != resp->status_code) {
        osip_message_set_status_code(resp.get(), status);
        osip_free(resp->reason_phrase);
        resp->reason_phrase = osip_dup(osip_message_get_reason(status));
    }
    const std::string call_id = call_key(call_id_of(resp.get()));
    const bool invite = st->method == "INVITE";
    send_response(resp.get(), st_key);
    if (!invite) return;
    if (auto it = calls_.find(call_id); it != calls_.end() && !it->second.established)
        end_call(call_id, ("final response " + std::to_string(status)).c_str());
}

}  // namespace sipmasq
