// The rtpd end of the sipd<->rtpd channel: turns START_FWD / STOP_FWD /
// LIST_FWD / PING into calls on the Relay and answers them, and reports the
// relay's timeouts as FWD_TIMEOUT. The answers of one pass of the event
// loop are gathered and sent together at its end (one sendmmsg, so sipd
// wakes once for them). The channel is replaced whenever the
// parent hands over a new one (sipd restarted); the forwards never depend on
// it, so a crash of sipd costs no call. Control path only: nothing here runs
// per packet.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "channel.h"
#include "end_of_pass.h"
#include "endpoint.h"
#include "event_ptr.h"
#include "rate_limit.h"
#include "relay.h"
#include "unique_fd.h"

namespace sipmasq {

// What the link remembers of a forward for logs and LIST_FWD: the call tag
// (sipd's call-id), and the ports and peers for the timeout line (the relay
// has freed the forward by the time it reports the timeout).
struct ForwardMeta {
    std::string tag;
    Endpoint inside_local;
    Endpoint outside_local;
    Endpoint inside_peer;
    Endpoint outside_peer;
};

[[nodiscard]] proto::FwdFailReason fail_reason_of(StartError e) noexcept;
[[nodiscard]] proto::FwdTimeoutReason wire_timeout_reason(TimeoutReason r) noexcept;

class SipdLink {
  public:
    SipdLink(event_base* base, Relay& relay);
    ~SipdLink();
    SipdLink(const SipdLink&) = delete;
    SipdLink& operator=(const SipdLink&) = delete;

    // A new channel (PEER_CHANNEL): the old one, if any, is dropped with its
    // unsent replies; every forward keeps running.
    void attach(UniqueFd sock);
    [[nodiscard]] bool connected() const noexcept { return chan_ != nullptr; }

    // The relay's timeout handler: FWD_TIMEOUT to sipd, one log line.
    void on_timeout(uint32_t id, TimeoutReason reason);

    // The call tag of a forward ("" if none).
    [[nodiscard]] const std::string& tag_of(uint32_t id) const;
    // Replies waiting for sipd to read (tests, diagnostics).
    [[nodiscard]] size_t pending() const noexcept { return out_.size(); }

  private:
    struct Pending {
        proto::MsgType type;
        uint32_t peer_id;
        uint32_t seq;
        uint16_t len;
        std::array<uint8_t, sizeof(proto::StartFwd)> data;
    };

    static void on_read_cb(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_write_cb(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_pass_end(void* arg) noexcept;
    void on_read();
    // Sends what the pass gathered, then what waits in out_, in order.
    void flush();
    void detach(const char* why);

    void handle(const proto::Message& msg);
    void handle_start(const proto::Message& msg);
    void handle_stop(const proto::Message& msg);
    void handle_list(const proto::Message& msg);

    void send_bytes(proto::MsgType type, uint32_t peer_id, std::span<const uint8_t> payload,
                    uint32_t seq);
    template <class T>
    void send(proto::MsgType type, uint32_t peer_id, const T& payload, uint32_t seq = 0) {
        send_bytes(type, peer_id, proto::as_bytes(payload), seq);
    }
    void send_failed(uint32_t id, uint32_t seq, proto::FwdFailReason reason, const char* text);

    event_base* base_;
    Relay& relay_;
    EndOfPass pass_end_;
    std::unique_ptr<proto::Channel> chan_;
    EventPtr read_ev_;
    EventPtr write_ev_;
    // Replies the channel could not take yet (sipd's queue full), in order
    // behind those in its batch.
    std::deque<Pending> out_;
    std::unordered_map<uint32_t, ForwardMeta> meta_;
    RateLimit exhausted_log_{3, 60000};
    RateLimit fail_log_{20, 60000};
    RateLimit refused_log_{10, 60000};
    RateLimit bad_log_{5, 60000};
    RateLimit overflow_log_{3, 60000};
};

}  // namespace sipmasq
