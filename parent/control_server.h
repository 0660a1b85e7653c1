// The control socket sipmasqctl talks to: a Unix stream socket that only
// root can open. The parent answers status and reload itself and passes
// the other requests to the child that knows (CTL_REQUEST / CTL_REPLY). It
// parses nothing but these one-line local requests.
#pragma once

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctl_protocol.h"
#include "message.h"

namespace sipmasq {

class ControlBackend {
  public:
    virtual ~ControlBackend() = default;
    [[nodiscard]] virtual std::string control_status(bool json) = 0;
    [[nodiscard]] virtual std::string control_reload(bool json) = 0;
    // How many rtpd workers there are.
    [[nodiscard]] virtual uint32_t control_workers() const = 0;
    // Sends CTL_REQUEST to a child (for rtpd: to worker `worker`); its seq,
    // or 0 when the child is not up.
    [[nodiscard]] virtual uint32_t control_ask(proto::Process child, uint32_t worker,
                                               uint32_t what) = 0;
};

class ControlServer {
  public:
    // Creates the socket at `path` (directory made 0755, socket 0600).
    [[nodiscard]] static std::unique_ptr<ControlServer> open(event_base* base,
                                                             const std::string& path,
                                                             ControlBackend& backend,
                                                             std::string& error);
    // Made by open() only (the passkey keeps the constructor its own).
    class Key {
        friend class ControlServer;
        Key() = default;
    };
    ControlServer(Key, event_base* base, std::string path, ControlBackend& backend);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // A part of a child's answer to the request it got with `seq`.
    void child_reply(proto::Process child, uint32_t worker, uint32_t seq, std::string_view text,
                     bool last);
    // A child died: the requests it had not answered fail.
    void child_gone(proto::Process child, uint32_t worker);

  private:
    struct Wait {
        proto::Process child;
        uint32_t worker;  // rtpd's worker, 0 for sipd
        uint32_t seq;     // 0: the worker was not running, nothing to wait for
        std::string text;
        bool done = false;
    };
    struct Connection {
        ControlServer* owner = nullptr;
        bufferevent* bev = nullptr;
        CtlRequest request{};
        bool answered = false;
        std::string head;
        std::vector<Wait> waits;
    };
    struct ListenerDeleter {
        void operator()(evconnlistener* l) const noexcept { evconnlistener_free(l); }
    };

    static void on_accept(evconnlistener* listener, evutil_socket_t fd, sockaddr* addr, int len,
                          void* arg) noexcept;
    static void on_read(bufferevent* bev, void* arg) noexcept;
    static void on_event(bufferevent* bev, short what, void* arg) noexcept;
    static void on_written(bufferevent* bev, void* arg) noexcept;

    void accept_connection(evutil_socket_t fd);
    void handle_request(Connection& conn);
    void finish_if_complete(Connection& conn);
    void answer(Connection& conn, bool ok, const std::string& text);
    void close(Connection& conn);

    event_base* base_;
    std::string path_;
    ControlBackend& backend_;
    std::unique_ptr<evconnlistener, ListenerDeleter> listener_;
    std::list<Connection> connections_;
};

}  // namespace sipmasq
