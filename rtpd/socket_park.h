// Every relay socket, live or parked, and the descriptor budget they share.
// A forward that ends parks its sockets here, still bound and still on the
// event loop: what arrives on them is read and dropped (counted), never
// forwarded nor answered. A later forward that takes the same port pair
// reuses them without socket(), setsockopt(), bind() or epoll_ctl(), after
// discarding whatever waited in their queues, so a late datagram of the old
// call never reaches the new call's peers. The pool's states (free, used,
// quarantined, and the early reuse of quarantined pairs) are the pool's
// alone: a parked socket rides along with its pair whatever state it is in.
//
// Parked sockets count against the budget (the descriptors the process
// leaves to relay sockets): opening a socket past it, or one the kernel
// refuses with EMFILE/ENFILE, first closes the oldest parked sockets, so
// parking never makes a call fail that would succeed without it.
// Control path only, except drain(): the read callback of a parked socket.
#pragma once

#include <event2/event.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "endpoint.h"
#include "port_pool.h"
#include "port_socket.h"
#include "udp_socket.h"

namespace sipmasq {

struct SocketParkStats {
    uint32_t open = 0;          // relay sockets open, live and parked
    uint32_t parked = 0;        // of which no forward uses
    uint32_t budget = 0;        // descriptors relay sockets may hold; 0: only the kernel's limit
    uint64_t opened_total = 0;  // socket() + bind()
    uint64_t reused_total = 0;  // taken from the park instead
    uint64_t closed_for_room_total = 0;  // parked ones closed for the budget or EMFILE
    uint64_t late_dropped_total = 0;     // datagrams read and dropped on parked sockets
};

class SocketPark {
  public:
    // What take() returns besides 0 and -errno: bound, but the event loop
    // would not watch it.
    static constexpr int kUnwatched = 1;
    [[nodiscard]] static PairError error_of(int code) noexcept;

    // `on_event` is the libevent callback of every socket, with its
    // PortSocket as argument (it serves the user, or calls drain()).
    SocketPark(event_base* base, event_callback_fn on_event, uint32_t budget) noexcept;
    SocketPark(const SocketPark&) = delete;
    SocketPark& operator=(const SocketPark&) = delete;

    struct TakenPair {
        uint16_t rtp_port = 0;
        PairSockets* sockets = nullptr;
        PairError error = PairError::None;
        int sys_errno = 0;  // the errno behind InUse / NoDescriptors / Socket
    };
    // A pair from `pool` with its sockets on `local` ready (without
    // `with_rtcp`, an rtcp-mux leg, only the RTP one, and a parked RTCP
    // socket of the pair is closed: a mux leg binds no RTCP port, see
    // sipmasq-rtpd(8)). requested_port == 0: a random pair, trying
    // up to `attempts` pairs and setting aside those another process holds
    // (EADDRINUSE). Otherwise exactly that pair. On success the pair is Used
    // in the pool; on failure the pool is as before except for pairs set
    // aside, and any socket of ours that was taken is parked again.
    [[nodiscard]] TakenPair take_pair(PortPool& pool, PairTable& table, const Endpoint& local,
                                      uint16_t requested_port, uint32_t attempts,
                                      const UdpSocketOptions& opt, int64_t now_ms, bool with_rtcp);
    // One socket of a pair already held (rtcp-mux switched off): the parked
    // one with its queue discarded, or a new one. 0, -errno or kUnwatched.
    [[nodiscard]] int take(PortSocket& s, const Endpoint& local, const UdpSocketOptions& opt);
    // A socket its forward no longer uses. One not open: nothing to do.
    void park(PortSocket& s) noexcept;
    // A socket no forward will use (the RTCP one of a leg that turned to
    // rtcp-mux): closed, parked or not.
    void close(PortSocket& s) noexcept;
    // Reads and drops what waits on a parked socket, a bounded amount per
    // wake-up like a live one.
    void drain(PortSocket& s) noexcept;

    [[nodiscard]] SocketParkStats stats() const noexcept { return stats_; }

  private:
    [[nodiscard]] int open(PortSocket& s, const Endpoint& local, const UdpSocketOptions& opt);
    [[nodiscard]] int take_both(PortPool& pool, PairTable& table, const Endpoint& local,
                                uint16_t port, const UdpSocketOptions& opt, bool with_rtcp,
                                TakenPair& out);
    [[nodiscard]] bool close_oldest() noexcept;
    void unlink(PortSocket& s) noexcept;
    // Reads up to `batches` batches; stops early when the queue is empty.
    void discard(PortSocket& s, unsigned batches) noexcept;

    static constexpr unsigned kBatch = 32;

    event_base* base_;
    event_callback_fn on_event_;
    PortSocket* oldest_ = nullptr;
    PortSocket* newest_ = nullptr;
    SocketParkStats stats_;
    // No name and no buffer: each datagram is consumed (MSG_TRUNC), never
    // copied.
    std::array<mmsghdr, kBatch> discard_{};
};

}  // namespace sipmasq
