#include "transaction_table.h"

#include "message_fields.h"

#include <algorithm>
#include <cstring>

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
        if (req->call_id != nullptr) {
            key.append(osip_sv(req->call_id->number));
            key += '@';
            key.append(osip_sv(req->call_id->host));
        }
        key += '\n';
        if (req->cseq != nullptr) key.append(osip_sv(req->cseq->number));
        key += '\n';
        key += via_to_string(via);
    }
    key += '\n';
    key += ascii_lower(method);
    return key;
}

// A source's budget is its address; IPv6 sources count by their /64, the
// block one host usually has.
std::string source_key(const SockAddr& source) {
    if (!source.is_v6()) return source.host_string();
    std::string key(reinterpret_cast<const char*>(source.addr_bytes()), 8);
    return "v6/64:" + key;
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
        remove_server(oldest);
    }
    if (servers_.size() >= limits_.max_total || bytes_ >= limits_.max_bytes)
        return Admission::Full;
    const size_t budget = limits_.max_per_source * (provider ? limits_.provider_factor : 1);
    if (from_source(source) >= budget) return Admission::SourceBudget;
    return Admission::Ok;
}

size_t TransactionTable::from_source(const SockAddr& source) const {
    auto it = per_source_.find(source_key(source));
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

ServerTransaction& TransactionTable::add_server(ServerTransaction st) {
    ++per_source_[source_key(st.source)];
    bytes_ += st.last_response.size();
    std::string key = st.key;
    auto [it, inserted] = servers_.insert_or_assign(std::move(key), std::move(st));
    (void)inserted;
    return it->second;
}

ClientTransaction& TransactionTable::add_client(ClientTransaction ct) {
    bytes_ += ct.request.size();
    std::string key = ct.key;
    if (auto old = clients_.find(key); old != clients_.end()) bytes_ -= old->second.request.size();
    auto [it, inserted] = clients_.insert_or_assign(std::move(key), std::move(ct));
    (void)inserted;
    return it->second;
}

void TransactionTable::remove_client(const std::string& key) {
    auto it = clients_.find(key);
    if (it == clients_.end()) return;
    bytes_ -= it->second.request.size();
    clients_.erase(it);
}

void TransactionTable::mark_completed(ServerTransaction& st) {
    if (st.completed) return;
    st.completed = true;
    if (auto s = per_source_.find(source_key(st.source)); s != per_source_.end())
        if (--s->second == 0) per_source_.erase(s);
    completed_.push_back(st.key);
    // Keys of transactions that ended on their own stay behind in the
    // queue; it never holds more than twice the table.
    while (completed_.size() > 2 * limits_.max_total) {
        const std::string oldest = std::move(completed_.front());
        completed_.pop_front();
        remove_server(oldest);
    }
}

void TransactionTable::remove_server(const std::string& key) {
    auto it = servers_.find(key);
    if (it == servers_.end()) return;
    if (!it->second.client_key.empty()) remove_client(it->second.client_key);
    bytes_ -= it->second.last_response.size();
    if (!it->second.completed)
        if (auto s = per_source_.find(source_key(it->second.source)); s != per_source_.end())
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

void TransactionTable::set_request(ClientTransaction& ct, std::string bytes) {
    bytes_ = bytes_ - ct.request.size() + bytes.size();
    ct.request = std::move(bytes);
}

TransactionTable::Due TransactionTable::due(int64_t now_ms) const {
    Due d;
    for (const auto& [key, st] : servers_) {
        if (st.expires_at_ms != 0 && st.expires_at_ms <= now_ms)
            d.server_expired.push_back(key);
        else if (st.retransmit_at_ms != 0 && st.retransmit_at_ms <= now_ms)
            d.server_retransmit.push_back(key);
    }
    for (const auto& [key, ct] : clients_) {
        if (ct.expires_at_ms != 0 && ct.expires_at_ms <= now_ms)
            d.client_expired.push_back(key);
        else if (ct.retransmit_at_ms != 0 && ct.retransmit_at_ms <= now_ms)
            d.client_retransmit.push_back(key);
    }
    return d;
}

int64_t TransactionTable::next_deadline_ms() const {
    int64_t next = 0;
    auto consider = [&next](int64_t t) {
        if (t != 0 && (next == 0 || t < next)) next = t;
    };
    for (const auto& [key, st] : servers_) {
        consider(st.expires_at_ms);
        consider(st.retransmit_at_ms);
    }
    for (const auto& [key, ct] : clients_) {
        consider(ct.expires_at_ms);
        consider(ct.retransmit_at_ms);
    }
    return next;
}

}  // namespace sipmasq
