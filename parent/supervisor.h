// The parent's only job once the children run: keep them running. It hands
// each child its descriptors, relays their log lines, restarts a child that
// dies (with a capped backoff, for as long as it keeps dying: one child's
// crashes never take the other one or the running calls down), and stops
// them in order on SIGTERM. It never reads a byte that came from the network.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "address_watch.h"
#include "channel.h"
#include "config.h"
#include "control_server.h"
#include "event_ptr.h"
#include "unique_fd.h"

namespace sipmasq {

// Descriptors the parent opened for sipd and keeps for its restarts.
struct SipSocket {
    UniqueFd fd;
    uint8_t side = 0;       // 0 inside, 1 outside
    uint8_t transport = 0;  // proto::kSipUdp, or proto::kSipTcpListener
    SockAddr local;
};

struct SupervisorOptions {
    std::string config_path;          // absolute, handed to the children
    std::string log_level;            // "-d" handed to the children
    int64_t death_window_ms = 60000;  // deaths counted in the log over this window
};

class Supervisor final : public ControlBackend {
  public:
    Supervisor(Config config, SupervisorOptions options, std::vector<SipSocket> sip_sockets,
               UniqueFd state_dir);
    ~Supervisor() override;
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Follows the addresses of the interfaces in if_inbound / if_outbound
    // from run() on: sockets opened and handed to
    // sipd for one that comes, closed for one that goes.
    void watch_addresses(std::unique_ptr<AddressWatch> watch) { watch_ = std::move(watch); }

    // Runs until an orderly stop (returns 0) or a failure to start a child
    // at all (fork, socketpair: returns 1). A child that dies is restarted.
    [[nodiscard]] int run();

    // ControlBackend: what sipmasqctl asks.
    [[nodiscard]] std::string control_status(bool json) override;
    [[nodiscard]] std::string control_reload(bool json) override;
    [[nodiscard]] uint32_t control_workers() const override;
    [[nodiscard]] uint32_t control_ask(proto::Process child, uint32_t worker,
                                       uint32_t what) override;

  private:
    struct Child;

    static void on_signal(evutil_socket_t sig, short what, void* arg) noexcept;
    static void on_channel(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_restart_timer(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_kill_timer(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_output(evutil_socket_t fd, short what, void* arg) noexcept;

    void handle_signal(int sig);
    void handle_channel(Child& child);
    void handle_message(Child& child, const proto::Message& msg, UniqueFd fd);
    // What a child wrote to stdout/stderr, line by line into the log.
    void read_output(Child& child, bool drain);
    // A LOG line of a child, within its budget (call records have their own).
    void relay_child_line(Child& child, LogLevel level, std::string_view text, bool record = false);
    void reap_children();
    void child_died(Child& child, int status);
    void start_child(Child& child);
    void send_configuration(Child& child);
    void address_changed(Side side, const SockAddr& addr, bool came);
    // A SIP_SOCKET message for one socket; false when it was not sent.
    bool send_sip_socket(Child& child, const SipSocket& sock);
    void refresh_peer_channel(Child& started);
    void send_pending_peer(Child& child);
    void begin_stop(int exit_code);
    // Re-reads the file; returns the lines it logged (for sipmasqctl).
    std::vector<std::string> reload();
    [[nodiscard]] bool all_stopped() const;
    // sipd, then the rtpd workers in order.
    [[nodiscard]] std::vector<Child*> children() const;

    Config config_;
    SupervisorOptions options_;
    std::vector<SipSocket> sip_sockets_;
    UniqueFd state_dir_;
    EventBasePtr base_;
    std::vector<EventPtr> signal_events_;
    EventPtr kill_timer_;
    std::unique_ptr<Child> sipd_;
    std::vector<std::unique_ptr<Child>> rtpd_;  // the workers, index = worker number
    std::unique_ptr<ControlServer> control_;
    std::unique_ptr<AddressWatch> watch_;
    int64_t started_ms_ = 0;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace sipmasq
