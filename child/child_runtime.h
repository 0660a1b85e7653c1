// What both children do around their own work: read their arguments and
// the configuration, talk to the parent over the channel on fd 3 (HELLO,
// READY, PING, SHUTDOWN, LOG: the lines of a loop pass sent together), drop
// every privilege and enter the sandbox, and run the event loop until the
// parent says stop or goes away.
#pragma once

#include <deque>
#include <functional>
#include <span>
#include <string>

#include "channel.h"
#include "config.h"
#include "ctl_protocol.h"
#include "end_of_pass.h"
#include "event_ptr.h"
#include "seccomp_filter.h"
#include "unique_fd.h"

namespace sipmasq {

class ChildRuntime {
  public:
    using MessageHandler = std::function<void(const proto::Message& msg, UniqueFd fd)>;

    // Parses "-c FILE -d LEVEL [-w WORKER]", says HELLO, connects logging to the
    // parent, loads the
    // configuration (exits on error) and creates the event loop. Exits with
    // a message on stderr when fd 3 is not a channel (started by hand).
    ChildRuntime(proto::Process self, const char* ident, int argc, char** argv);
    ~ChildRuntime();
    ChildRuntime(const ChildRuntime&) = delete;
    ChildRuntime& operator=(const ChildRuntime&) = delete;

    [[nodiscard]] const Config& config() const noexcept { return config_; }
    [[nodiscard]] event_base* base() const noexcept { return base_.get(); }
    [[nodiscard]] proto::Channel& parent() noexcept { return *parent_; }
    // What the parent said with -w (rtpd: "INDEX:LOW-HIGH"), "" without.
    [[nodiscard]] const std::string& worker_arg() const noexcept { return worker_arg_; }

    // chroot, ids, capabilities, NoNewPrivs, seccomp: fatal on any failure.
    void enter_sandbox(std::span<const SyscallRule> rules);

    void send_ready();

    // Messages from the parent that the runtime does not answer itself.
    void set_message_handler(MessageHandler handler) { handler_ = std::move(handler); }
    // Answers sipmasqctl requests the parent passes on (CTL_REQUEST): the
    // returned text (a table, or JSON when `json`) goes back in CTL_REPLY
    // parts. Without a handler a request gets an error text.
    using CtlHandler = std::function<std::string(CtlCommand command, bool json)>;
    void set_ctl_handler(CtlHandler handler) { ctl_handler_ = std::move(handler); }

    // Called on SHUTDOWN, SIGTERM or a parent that went away, before the
    // loop ends.
    void set_stop_handler(std::function<void()> handler) { on_stop_ = std::move(handler); }

    // Runs the event loop; returns the process exit code.
    [[nodiscard]] int run();
    void stop();

  private:
    void send_hello();
    static void on_parent(evutil_socket_t fd, short what, void* arg) noexcept;
    static void on_signal(evutil_socket_t sig, short what, void* arg) noexcept;
    void handle_parent();
    void answer_ctl(const proto::Message& msg);
    void flush_replies();
    static void on_parent_writable(evutil_socket_t fd, short what, void* arg) noexcept;

    proto::Process self_;
    std::string worker_arg_;
    Config config_;
    EventBasePtr base_;
    // Sends the log lines a pass of the loop gathered, at its end.
    std::unique_ptr<EndOfPass> log_pass_end_;
    std::unique_ptr<proto::Channel> parent_;
    EventPtr parent_event_;
    EventPtr term_event_;
    EventPtr int_event_;
    MessageHandler handler_;
    CtlHandler ctl_handler_;
    // CTL_REPLY parts not yet sent because the parent's queue was full.
    struct PendingReply {
        uint32_t seq;
        std::string text;
        size_t offset;
    };
    std::deque<PendingReply> replies_;
    EventPtr parent_write_event_;
    std::function<void()> on_stop_;
    bool stopping_ = false;
};

}  // namespace sipmasq
