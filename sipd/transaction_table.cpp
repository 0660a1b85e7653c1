#include "transaction_table.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "message_fields.h"

namespace sipmasq {

namespace {

std::string_view param_of(const osip_list_t* params, const char* name) {
    const osip_generic_param_t* p = find_generic_param(params, name);
    return p != nullptr ? osip_sv(p->gvalue) : std::string_view();
}

// ACK belongs to the INVITE transaction (§17.2.3).
std::string_view key_method(const osip_message_t* req) {
    const std::string_view m = osip_sv(req->sip_method);
    return iequals(m, "ACK") ? std::string_view("INVITE") : m;
}

std::string key_with_method(const osip_message_t* req, std::string_view method) {
    auto* via = static_cast<const osip_via_t*>(osip_list_get(&req->vias, 0));
    if (via == nullptr) return {};
    const std::string_view branch = param_of(&via->via_params, "branch");
    std::string key;
    if (branch.substr(0, 7) == "z9hG4bK") {
        key = "3261\n";
        key.append(branch);
        key += '\n';
        key += ascii_lower(osip_sv(via->host));
        key += ':';
        key += std::to_string(parse_sip_port(osip_sv(via->port)));
    } else {
        // RFC 2543: no unique branch; the To tag is left out so that the
        // ACK (which carries the tag of our answer) finds its INVITE.
        key = "2543\n";
        key += uri_to_string(req->req_uri);
        key += '\n';
        if (req->from != nullptr) key.append(param_of(&req->from->gen_params, "tag"));
        key += '\n';
        key += call_id_of(req);
        key += '\n';
        if (req->cseq != nullptr) key.append(osip_sv(req->cseq->number));
        key += '\n';
        key += via_to_string(via);
    }
    key += '\n';
    key += ascii_lower(method);
    return key;
}

}  // namespace

std::string server_transaction_key(const osip_message_t* req) {
    return key_with_method(req, key_method(req));
}

std::string cancelled_invite_key(const osip_message_t* cancel) {
    return key_with_method(cancel, "INVITE");
}

std::string client_transaction_key(std::string_view branch, std::string_view method) {
    std::string key(branch);
    key += '\n';
    key += ascii_lower(iequals(method, "ACK") ? std::string_view("INVITE") : method);
    return key;
}

TransactionTable::Admission TransactionTable::admit(const SockAddr& source, bool provider) {
    while ((servers_.size() >= limits_.max_total || bytes_ >= limits_.max_bytes) &&
           !completed_.empty()) {
        const std::string oldest = std::move(completed_.front());
        completed_.pop_front();
        remove_completed(oldest);
    }
    if (servers_.size() >= limits_.max_total || bytes_ >= limits_.max_bytes) return Admission::Full;
    const size_t budget = limits_.max_per_source * (provider ? limits_.provider_factor : 1);
    if (from_source(source) >= budget) return Admission::SourceBudget;
    return Admission::Ok;
}

size_t TransactionTable::from_source(const SockAddr& source) const {
    auto it = per_source_.find(budget_key(source));
    return it == per_source_.end() ? 0 : it->second;
}

ServerTransaction* TransactionTable::find_server(const std::string& key) {
    auto it = servers_.find(key);
    return it == servers_.end() ? nullptr : &it->second;
}

ClientTransaction* TransactionTable::find_client(const std::string& key) {
    auto it = clients_.find(key);
    return it == clients_.end() ? nullptr : &it->second;
}

void TransactionTable::index_timer(int64_t old_at, int64_t new_at, TimerKind kind, uint64_t seq,
                                   const std::string& key) {
    if (old_at == new_at) return;
    if (old_at != 0) timers_.erase(TimerEntry{old_at, kind, seq, &key});
    if (new_at != 0) timers_.insert(TimerEntry{new_at, kind, seq, &key});
}

void TransactionTable::set_timers(ServerTransaction& st, int64_t retransmit_at_ms,
                                  int64_t expires_at_ms) {
    index_timer(st.retransmit_at_ms, retransmit_at_ms, TimerKind::ServerRetransmit, st.seq, st.key);
    index_timer(st.expires_at_ms, expires_at_ms, TimerKind::ServerExpiry, st.seq, st.key);
    st.retransmit_at_ms = retransmit_at_ms;
    st.expires_at_ms = expires_at_ms;
}

void TransactionTable::set_timers(ClientTransaction& ct, int64_t retransmit_at_ms,
                                  int64_t expires_at_ms) {
    index_timer(ct.retransmit_at_ms, retransmit_at_ms, TimerKind::ClientRetransmit, ct.seq, ct.key);
    index_timer(ct.expires_at_ms, expires_at_ms, TimerKind::ClientExpiry, ct.seq, ct.key);
    ct.retransmit_at_ms = retransmit_at_ms;
    ct.expires_at_ms = expires_at_ms;
}

ServerTransaction& TransactionTable::add_server(ServerTransaction st) {
    if (servers_.find(st.key) != servers_.end()) remove_server(st.key);
    ++per_source_[budget_key(st.source)];
    bytes_ += st.last_response.size() + st.best_response.size();
    const int64_t retransmit = std::exchange(st.retransmit_at_ms, 0);
    const int64_t expires = std::exchange(st.expires_at_ms, 0);
    st.seq = ++next_seq_;
    std::string key = st.key;
    auto [it, inserted] = servers_.emplace(std::move(key), std::move(st));
    (void)inserted;
    set_timers(it->second, retransmit, expires);
    return it->second;
}

ClientTransaction& TransactionTable::add_client(ClientTransaction ct) {
    if (clients_.find(ct.key) != clients_.end()) remove_client(ct.key);
    bytes_ += ct.request.size();
    const int64_t retransmit = std::exchange(ct.retransmit_at_ms, 0);
    const int64_t expires = std::exchange(ct.expires_at_ms, 0);
    ct.seq = ++next_seq_;
    std::string key = ct.key;
    auto [it, inserted] = clients_.emplace(std::move(key), std::move(ct));
    (void)inserted;
    set_timers(it->second, retransmit, expires);
    return it->second;
}

void TransactionTable::remove_client(const std::string& key) {
    auto it = clients_.find(key);
    if (it == clients_.end()) return;
    set_timers(it->second, 0, 0);
    bytes_ -= it->second.request.size();
    clients_.erase(it);
}

// A key in the queue may name a newer transaction by now (the same key
// made again): only a completed one goes.
void TransactionTable::remove_completed(const std::string& key) {
    auto it = servers_.find(key);
    if (it != servers_.end() && it->second.completed) remove_server(key);
}

void TransactionTable::mark_completed(ServerTransaction& st) {
    if (st.completed) return;
    st.completed = true;
    if (auto s = per_source_.find(budget_key(st.source)); s != per_source_.end())
        if (--s->second == 0) per_source_.erase(s);
    completed_.push_back(st.key);
    // Keys of transactions that ended on their own stay behind in the
    // queue; it never holds more than twice the table.
    while (completed_.size() > 2 * limits_.max_total) {
        const std::string oldest = std::move(completed_.front());
        completed_.pop_front();
        remove_completed(oldest);
    }
}

void TransactionTable::remove_server(const std::string& key) {
    auto it = servers_.find(key);
    if (it == servers_.end()) return;
    for (const std::string& client : it->second.client_keys) remove_client(client);
    set_timers(it->second, 0, 0);
    bytes_ -= it->second.last_response.size() + it->second.best_response.size();
    if (!it->second.completed)
        if (auto s = per_source_.find(budget_key(it->second.source)); s != per_source_.end())
            if (--s->second == 0) per_source_.erase(s);
    servers_.erase(it);
    // Drop what has already gone from the front of the queue.
    while (!completed_.empty() && servers_.find(completed_.front()) == servers_.end())
        completed_.pop_front();
}

void TransactionTable::set_response(ServerTransaction& st, int status, std::string bytes) {
    bytes_ = bytes_ - st.last_response.size() + bytes.size();
    st.last_status = status;
    st.last_response = std::move(bytes);
}

void TransactionTable::set_best_response(ServerTransaction& st, int status, std::string bytes) {
    bytes_ = bytes_ - st.best_response.size() + bytes.size();
    st.best_status = status;
    st.best_response = std::move(bytes);
}

bool TransactionTable::add_branch(ServerTransaction& st, const std::string& client_key) {
    if (std::find(st.client_keys.begin(), st.client_keys.end(), client_key) != st.client_keys.end())
        return true;
    if (st.client_keys.size() >= kMaxBranches) return false;
    st.client_keys.push_back(client_key);
    return true;
}

bool TransactionTable::all_branches_final(const ServerTransaction& st) const {
    for (const std::string& key : st.client_keys) {
        auto it = clients_.find(key);
        if (it != clients_.end() && it->second.last_status < 200) return false;
    }
    return true;
}

void TransactionTable::set_request(ClientTransaction& ct, std::string bytes) {
    bytes_ = bytes_ - ct.request.size() + bytes.size();
    ct.request = std::move(bytes);
}

TransactionTable::Due TransactionTable::due(int64_t now_ms) const {
    Due d;
    // An expiry wins over a retransmission of the same transaction.
    std::set<std::pair<TimerKind, std::string>> expiring;
    for (auto it = timers_.begin(); it != timers_.end() && std::get<0>(*it) <= now_ms; ++it) {
        const auto& [at, kind, seq, key] = *it;
        switch (kind) {
            case TimerKind::ServerExpiry:
                d.server_expired.push_back(*key);
                expiring.emplace(TimerKind::ServerRetransmit, *key);
                break;
            case TimerKind::ClientExpiry:
                d.client_expired.push_back(*key);
                expiring.emplace(TimerKind::ClientRetransmit, *key);
                break;
            case TimerKind::ServerRetransmit:
            case TimerKind::ClientRetransmit:
                break;
        }
    }
    for (auto it = timers_.begin(); it != timers_.end() && std::get<0>(*it) <= now_ms; ++it) {
        const auto& [at, kind, seq, key] = *it;
        if (expiring.count({kind, *key}) != 0) continue;
        if (kind == TimerKind::ServerRetransmit) d.server_retransmit.push_back(*key);
        if (kind == TimerKind::ClientRetransmit) d.client_retransmit.push_back(*key);
    }
    return d;
}

int64_t TransactionTable::next_deadline_ms() const {
    return timers_.empty() ? 0 : std::get<0>(*timers_.begin());
}

std::vector<std::string> TransactionTable::unanswered_clients_to(Side side, Transport transport,
                                                                 const SockAddr& dest) const {
    std::vector<std::string> keys;
    for (const auto& [key, ct] : clients_)
        if (ct.side == side && ct.transport == transport && ct.dest == dest && ct.last_status < 200)
            keys.push_back(key);
    return keys;
}

}  // namespace sipmasq
