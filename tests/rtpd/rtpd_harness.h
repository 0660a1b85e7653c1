// Runs the real sipmasq-rtpd for integration tests and the benchmark, with
// the test playing both the parent (fd 3: HELLO, PEER_CHANNEL, READY, LOG,
// CTL_REQUEST) and sipd (the sipd<->rtpd channel). Only the process it
// started is ever signalled, by pid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "channel.h"
#include "ctl_protocol.h"
#include "endpoint.h"
#include "message.h"
#include "unique_fd.h"

namespace sipmasq::rtpdtest {

// A temporary directory (0755, so a jail below it is reachable), removed
// recursively with the object.
class ScratchDir {
  public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

[[nodiscard]] std::string build_root();

// Writes a configuration for rtpd on loopback (inside 127.0.0.1, outside
// 127.0.0.2, user nobody, a root-owned 0755 jail under `dir`) and returns
// its path. `extra` is appended as more `key = value` lines.
[[nodiscard]] std::string write_rtpd_config(const ScratchDir& dir, uint16_t port_low,
                                            uint16_t port_high, const std::string& extra = "");

// A received message with its own copy of the payload.
struct Got {
    proto::Header header{};
    std::vector<uint8_t> payload;
    [[nodiscard]] proto::MsgType type() const { return static_cast<proto::MsgType>(header.type); }
    template <class T>
    [[nodiscard]] T as() const {
        T value{};
        std::memcpy(&value, payload.data(), std::min(sizeof(T), payload.size()));
        return value;
    }
};

// The test's sipd end of the sipd<->rtpd channel.
class SipdPeer {
  public:
    explicit SipdPeer(UniqueFd sock);
    [[nodiscard]] proto::Channel& channel() { return chan_; }

    // Each returns the seq sent, 0 on failure.
    uint32_t start_fwd(uint32_t id, const proto::StartFwd& sf);
    uint32_t stop_fwd(uint32_t id);
    uint32_t list_fwd();
    uint32_t ping(uint64_t nonce);

    // The next message (from the backlog first) matching `pred`; others
    // are kept in the backlog. nullopt after `ms` or when the channel closed.
    std::optional<Got> wait_for(const std::function<bool(const Got&)>& pred, int ms);
    std::optional<Got> wait_reply(uint32_t seq, int ms);
    std::optional<Got> wait_type(proto::MsgType type, uint32_t peer_id, int ms);
    // True once rtpd closed its end (read returned Closed).
    [[nodiscard]] bool closed() const { return closed_; }
    // Reads whatever is waiting into the backlog without blocking.
    void poll_once(int ms);
    [[nodiscard]] size_t backlog() const { return backlog_.size(); }

  private:
    proto::Channel chan_;
    std::deque<Got> backlog_;
    bool closed_ = false;
};

// START_FWD payload from text addresses; peers may be unknown (family 0).
[[nodiscard]] proto::StartFwd make_start(const char* inside_local, const char* outside_local,
                                         const Endpoint& inside_peer, const Endpoint& outside_peer,
                                         const std::string& tag, uint32_t flags = 0,
                                         uint16_t inside_port = 0, uint16_t outside_port = 0);
// The port of a WireAddr.
[[nodiscard]] inline uint16_t wire_port(const proto::WireAddr& w) {
    return w.port;
}

// Which worker a started rtpd is, as the parent says with -w and in
// PEER_CHANNEL; ports "" starts it without -w (the whole range, worker 0).
struct WorkerSlot {
    uint32_t index = 0;
    uint32_t count = 1;
    std::string ports;  // "LOW-HIGH"
};

class RtpdProcess {
  public:
    RtpdProcess() = default;
    ~RtpdProcess();  // SIGKILL to the process it started, if still running
    RtpdProcess(const RtpdProcess&) = delete;
    RtpdProcess& operator=(const RtpdProcess&) = delete;

    // Spawns build_root()/rtpd/sipmasq-rtpd -c config -d level with our end
    // of a socketpair on its fd 3, reads HELLO, hands it a sipd channel
    // (PEER_CHANNEL) and waits for READY. Returns the sipd end, or null with
    // `error` set.
    std::unique_ptr<SipdPeer> start(const std::string& config, std::string& error,
                                    const char* level = "info", int ready_ms = 10000,
                                    const WorkerSlot& worker = {});
    // A new sipd<->rtpd channel, as the parent sends when sipd restarts.
    std::unique_ptr<SipdPeer> new_sipd_channel();

    [[nodiscard]] pid_t pid() const { return pid_; }
    // SIGKILL and reap. True when it was running.
    bool kill9();
    // SIGTERM and wait for the exit (bounded); the wait status.
    std::optional<int> terminate(int ms);

    // Reads the LOG lines waiting on the parent channel (bounded wait).
    void read_parent(int ms);
    [[nodiscard]] const std::vector<std::string>& logs() const { return logs_; }
    // Waits until a log line contains `needle`; returns that line.
    std::optional<std::string> wait_log(const std::string& needle, int ms);
    // A sipmasqctl request as the parent passes it on; the reply text.
    std::optional<std::string> ctl(CtlCommand command, bool json, int ms = 5000);

  private:
    std::optional<Got> next_parent(int ms);

    pid_t pid_ = -1;
    uint32_t worker_ = 0;
    uint32_t workers_ = 1;
    std::unique_ptr<proto::Channel> parent_;
    std::vector<std::string> logs_;
    std::deque<Got> parent_backlog_;
};

// /proc/PID/status "Seccomp:" value (2 = filter), -1 if unreadable.
[[nodiscard]] int seccomp_mode(pid_t pid);

}  // namespace sipmasq::rtpdtest
