// The MediaLink over the sipd<->rtpd channel: START_FWD / STOP_FWD out,
// FWD_STARTED / FWD_FAILED / FWD_TIMEOUT / FWD_ENTRY in. A new channel can
// arrive at any time (the other side restarted); requests waiting on the
// old one then fail. Requests of one pass of the event loop are gathered
// and sent together at its end (one sendmmsg, so rtpd wakes once for
// them). What the channel cannot take (rtpd busy with a burst of calls)
// waits in order for it to drain, instead of failing.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "channel.h"
#include "end_of_pass.h"
#include "event_ptr.h"
#include "media_link.h"
#include "unique_fd.h"

namespace sipmasq {

class RtpdLink : public MediaLink {
  public:
    using TimeoutHandler = std::function<void(uint32_t id, const char* reason)>;
    using EntryHandler = std::function<void(uint32_t id, const MediaStart& entry)>;
    using ListEndHandler = std::function<void(uint32_t count)>;

    explicit RtpdLink(event_base* base) : base_(base), pass_end_(base, &on_pass_end, this) {}

    // Takes a (new) channel end from PEER_CHANNEL.
    void set_channel(UniqueFd fd);
    void on_timeout(TimeoutHandler h) { on_timeout_ = std::move(h); }
    void on_entry(EntryHandler h) { on_entry_ = std::move(h); }
    void on_list_end(ListEndHandler h) { on_list_end_ = std::move(h); }
    // LIST_FWD: rtpd answers with FWD_ENTRY* and LIST_FWD_END.
    [[nodiscard]] bool request_list();

    [[nodiscard]] bool available() const override { return channel_ != nullptr; }
    void start(const MediaStart& request, Done done) override;
    void stop(uint32_t id) override;

  private:
    static void on_readable(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_check(evutil_socket_t fd, short what, void* arg) noexcept;
    // A START_FWD rtpd does not answer within this fails (the call gets 503).
    static constexpr int64_t kAnswerTimeoutMs = 2000;
    void fail_overdue();
    void complete(uint32_t id, const MediaResult& res);
    void drain();
    void drop_channel(const char* why);
    // Gathers for the end of the pass, or queues behind what waits
    // already; -errno when neither.
    [[nodiscard]] int send_or_queue(proto::MsgType type, uint32_t id,
                                    std::span<const uint8_t> payload);
    static void on_writable(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_pass_end(void* arg) noexcept;
    // Sends what the pass gathered, then what waits in out_, in order.
    void flush();

    event_base* base_;
    EndOfPass pass_end_;
    std::unique_ptr<proto::Channel> channel_;
    EventPtr read_event_;
    struct Waiter {
        Done done;
        int64_t deadline_ms;
    };
    std::unordered_map<uint32_t, std::vector<Waiter>> pending_;
    EventPtr check_event_;
    // Requests the channel could not take yet, in order, behind those in
    // its batch. Bounded: beyond it rtpd has stopped reading and a request
    // fails as for a dead rtpd.
    struct Outgoing {
        proto::MsgType type;
        uint32_t id;
        uint16_t len;
        std::array<uint8_t, sizeof(proto::StartFwd)> data;
    };
    static constexpr size_t kMaxQueued = 16384;
    std::deque<Outgoing> out_;
    EventPtr write_event_;
    TimeoutHandler on_timeout_;
    EntryHandler on_entry_;
    ListEndHandler on_list_end_;
};

}  // namespace sipmasq
