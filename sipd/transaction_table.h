// RFC 3261 §17 transaction state of the proxy: the server transactions
// (requests sipmasq received) and the client transactions (requests it
// sent on). A response is only ever forwarded when it matches a live client
// transaction; what matches none is dropped. Every table is bounded, in
// total and per source address, so a flood keeps memory flat.
#pragma once

#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "address.h"
#include "osip_ptr.h"
#include "sip_types.h"

namespace sipmasq {

// RFC 3261 timers, milliseconds.
inline constexpr int64_t kT1Ms = 500;
inline constexpr int64_t kT2Ms = 4000;
inline constexpr int64_t kTimerBMs = 64 * kT1Ms;  // also F, H, J and the 2xx "accepted" state
inline constexpr int64_t kTimerCMs = 180000;      // an INVITE left without a final answer
// Client transactions of one server transaction: sipmasq forks an INVITE
// to every live contact of an AOR (RFC 3261 §16.6), and an AOR has at most
// ten (registrar.h's max_contacts_per_aor).
inline constexpr size_t kMaxBranches = 10;

// §17.2.3: the top Via's branch (with the magic cookie), its sent-by and the
// method (ACK counts as INVITE, so the ACK of a non-2xx finds its INVITE);
// for an RFC 2543 client, the Request-URI, From tag, Call-ID, CSeq and top
// Via. "" when the request has no top Via.
[[nodiscard]] std::string server_transaction_key(const osip_message_t* req);
// The key of the INVITE a CANCEL cancels (the same key with method INVITE).
[[nodiscard]] std::string cancelled_invite_key(const osip_message_t* cancel);

struct ServerTransaction {
    std::string key;
    std::string method;        // INVITE, BYE, ... (never ACK)
    Side side = Side::Inside;  // where the request came from: its responses go back there
    Transport transport = Transport::Udp;  // TCP: responses go back over its connection
    SockAddr source;  // the packet's source (the connection's peer): every response goes here
    // Our client transactions, one per branch (RFC 3261 §16.6), at most
    // kMaxBranches; empty until forwarded.
    std::vector<std::string> client_keys;
    // The response context (§16.7): the best final answer of the branches
    // so far, ready to go upstream once every branch has one.
    int best_status = 0;
    std::string best_response;
    int last_status = 0;           // 0: nothing sent yet
    std::string last_response;     // what a retransmitted request gets again
    bool acked = false;            // INVITE: the ACK of our non-2xx came
    bool completed = false;        // a final answer went out: only absorbing retransmissions now
    int64_t retransmit_at_ms = 0;  // timer G (non-2xx final to an INVITE), 0 = none
    int64_t interval_ms = 0;
    int64_t expires_at_ms = 0;
    uint64_t seq = 0;  // the table's: the order transactions were added in
};

struct ClientTransaction {
    std::string key;     // branch + method
    std::string branch;  // ours, in our Via
    std::string method;
    Side side = Side::Outside;             // the side it was sent to
    Transport transport = Transport::Udp;  // its responses must come back the same way
    SockAddr dest;                         // the only address its responses may come from
    std::string server_key;
    std::string request;         // the bytes sent, for retransmissions, CANCEL and ACK
    int last_status = 0;         // 0: no response yet
    bool cancel_wanted = false;  // a CANCEL waits for the first provisional
    bool cancelled = false;
    int64_t retransmit_at_ms = 0;  // timer A / E, 0 = none
    int64_t interval_ms = 0;
    int64_t expires_at_ms = 0;
    uint64_t seq = 0;  // the table's: the order transactions were added in
};

[[nodiscard]] std::string client_transaction_key(std::string_view branch, std::string_view method);

struct TransactionLimits {
    // Server transactions, each with at most kMaxBranches client ones.
    // When full, the oldest completed one (only absorbing retransmissions)
    // makes room.
    size_t max_total = 4096;
    size_t max_per_source = 64;    // transactions in progress per source address
    size_t provider_factor = 16;   // configured providers get this many times more
    size_t max_bytes = 32u << 20;  // kept request and response bytes, in all
};

class TransactionTable {
  public:
    enum class Admission : uint8_t { Ok, Full, SourceBudget };

    explicit TransactionTable(TransactionLimits limits = {}) : limits_(limits) {}

    // May a new server transaction from `source` be created now? Makes
    // room by forgetting the oldest completed transaction when full.
    [[nodiscard]] Admission admit(const SockAddr& source, bool provider);
    // A final answer went out: the transaction no longer counts against its
    // source, and is the first to go when the table is full.
    void mark_completed(ServerTransaction& st);

    ServerTransaction* find_server(const std::string& key);
    ClientTransaction* find_client(const std::string& key);
    // Adds (call admit() first); returns the stored one.
    ServerTransaction& add_server(ServerTransaction st);
    ClientTransaction& add_client(ClientTransaction ct);
    // A branch of `st`: false (and nothing kept) past kMaxBranches.
    [[nodiscard]] bool add_branch(ServerTransaction& st, const std::string& client_key);
    // Every branch of `st` has a final answer or has ended.
    [[nodiscard]] bool all_branches_final(const ServerTransaction& st) const;
    // Removes a server transaction and the client transactions of its branches.
    void remove_server(const std::string& key);
    void remove_client(const std::string& key);

    // Sets a transaction's timers (0 = none); the table keeps them ordered,
    // so finding what is due costs no scan of the whole table.
    void set_timers(ServerTransaction& st, int64_t retransmit_at_ms, int64_t expires_at_ms);
    void set_timers(ClientTransaction& ct, int64_t retransmit_at_ms, int64_t expires_at_ms);

    // The kept bytes of a transaction changed (request or last response).
    void set_response(ServerTransaction& st, int status, std::string bytes);
    void set_request(ClientTransaction& ct, std::string bytes);
    void set_best_response(ServerTransaction& st, int status, std::string bytes);

    // The keys whose timers are due at `now_ms`, and those that expired.
    struct Due {
        std::vector<std::string> server_retransmit;
        std::vector<std::string> client_retransmit;
        std::vector<std::string> client_expired;  // no final answer in time
        std::vector<std::string> server_expired;  // done: forget them
    };
    [[nodiscard]] Due due(int64_t now_ms) const;  // O(what is due)
    // The earliest deadline of any transaction, or 0 when there is none.
    [[nodiscard]] int64_t next_deadline_ms() const;

    // The client transactions sent over `transport` to `dest` on `side` that
    // have no final answer yet (a transport error ends them; O(table)).
    [[nodiscard]] std::vector<std::string> unanswered_clients_to(Side side, Transport transport,
                                                                 const SockAddr& dest) const;

    [[nodiscard]] size_t servers() const noexcept { return servers_.size(); }
    [[nodiscard]] size_t clients() const noexcept { return clients_.size(); }
    [[nodiscard]] size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] size_t from_source(const SockAddr& source) const;
    [[nodiscard]] const TransactionLimits& limits() const noexcept { return limits_; }

  private:
    TransactionLimits limits_;
    std::unordered_map<std::string, ServerTransaction> servers_;
    std::unordered_map<std::string, ClientTransaction> clients_;
    // Transactions in progress per source host (entries exist only while
    // that host has some, so this map is bounded by servers_).
    std::unordered_map<std::string, size_t> per_source_;
    // Completed transactions, oldest first (keys may be gone already).
    std::deque<std::string> completed_;
    // Every timer of every transaction, earliest first.
    enum class TimerKind : uint8_t {
        ServerRetransmit,
        ServerExpiry,
        ClientRetransmit,
        ClientExpiry
    };
    // The key is the transaction's own (its node in servers_ / clients_
    // never moves), so a timer costs no copy of it; ties are ordered by the
    // transaction's sequence number (the order it was added in), so the
    // order never depends on addresses and costs no string comparison.
    using TimerEntry = std::tuple<int64_t, TimerKind, uint64_t, const std::string*>;
    struct TimerOrder {
        bool operator()(const TimerEntry& a, const TimerEntry& b) const noexcept {
            return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
                   std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
        }
    };
    std::set<TimerEntry, TimerOrder> timers_;
    void index_timer(int64_t old_at, int64_t new_at, TimerKind kind, uint64_t seq,
                     const std::string& key);
    uint64_t next_seq_ = 0;
    void remove_completed(const std::string& key);
    size_t bytes_ = 0;
};

}  // namespace sipmasq
