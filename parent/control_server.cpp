#include "control_server.h"

#include <event2/buffer.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "c_ptr.h"
#include "ctl_merge.h"
#include "fs_util.h"
#include "log.h"
#include "unique_fd.h"

namespace sipmasq {

namespace {

constexpr timeval kIdleTimeout{5, 0};

const char* child_name(proto::Process child) {
    return child == proto::Process::Sipd ? "sipd" : "rtpd";
}

}  // namespace

ControlServer::ControlServer(Key, event_base* base, std::string path, ControlBackend& backend)
    : base_(base), path_(std::move(path)), backend_(backend) {}

std::unique_ptr<ControlServer> ControlServer::open(event_base* base, const std::string& path,
                                                   ControlBackend& backend, std::string& error) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sun.sun_path) {
        error = "control_socket path '" + path + "' is empty or too long";
        return nullptr;
    }
    if (!make_directories(parent_directory(path), 0755, error)) return nullptr;
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = std::string("cannot create the control socket: ") + std::strerror(errno);
        return nullptr;
    }
    ::unlink(path.c_str());  // a stale socket of an earlier run
    // Created 0600 from the start: no moment where others could connect.
    const mode_t old_mask = ::umask(0177);
    const int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    ::umask(old_mask);
    if (rc != 0 || ::listen(fd.get(), 16) != 0) {
        error = "cannot listen on " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    auto server = std::make_unique<ControlServer>(Key{}, base, path, backend);
    server->listener_.reset(
        evconnlistener_new(base, on_accept, server.get(), LEV_OPT_CLOSE_ON_FREE, -1, fd.get()));
    if (!server->listener_) {
        error = "cannot watch " + path;
        return nullptr;
    }
    (void)fd.release();
    return server;
}

ControlServer::~ControlServer() {
    for (auto& conn : connections_) bufferevent_free(conn.bev);
    listener_.reset();
    ::unlink(path_.c_str());
}

void ControlServer::on_accept(evconnlistener* /*listener*/, evutil_socket_t fd, sockaddr* /*addr*/,
                              int /*len*/, void* arg) noexcept {
    static_cast<ControlServer*>(arg)->accept_connection(fd);
}

void ControlServer::accept_connection(evutil_socket_t fd) {
    // The socket's mode already keeps others out; the peer's credentials
    // are checked too, so a mode changed by hand does not open it up.
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
        log_warning("control: refused a connection from uid %d (only root may control sipmasq)",
                    static_cast<int>(cred.uid));
        ::close(fd);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) {
        ::close(fd);
        return;
    }
    Connection& conn = connections_.emplace_back();
    conn.owner = this;
    conn.bev = bev;
    bufferevent_setcb(bev, on_read, nullptr, on_event, &conn);
    bufferevent_set_timeouts(bev, &kIdleTimeout, &kIdleTimeout);
    bufferevent_setwatermark(bev, EV_READ, 0, kCtlMaxRequest + 1);
    bufferevent_enable(bev, EV_READ);
}

void ControlServer::on_read(bufferevent* /*bev*/, void* arg) noexcept {
    auto& conn = *static_cast<Connection*>(arg);
    conn.owner->handle_request(conn);
}

void ControlServer::on_event(bufferevent* /*bev*/, short /*what*/, void* arg) noexcept {
    // EOF, error or timeout: the client is gone or too slow.
    auto& conn = *static_cast<Connection*>(arg);
    conn.owner->close(conn);
}

void ControlServer::on_written(bufferevent* bev, void* arg) noexcept {
    if (evbuffer_get_length(bufferevent_get_output(bev)) != 0) return;
    auto& conn = *static_cast<Connection*>(arg);
    conn.owner->close(conn);
}

void ControlServer::handle_request(Connection& conn) {
    if (conn.answered) return;
    evbuffer* input = bufferevent_get_input(conn.bev);
    size_t len = 0;
    const CMallocPtr<char> line(evbuffer_readln(input, &len, EVBUFFER_EOL_LF));
    if (line == nullptr) {
        if (evbuffer_get_length(input) > kCtlMaxRequest) answer(conn, false, "request too long");
        return;
    }
    const std::string text(line.get(), len);
    const auto request = len <= kCtlMaxRequest ? parse_ctl_request(text) : std::nullopt;
    if (!request) {
        answer(conn, false,
               "unknown request (try: status, registrations, calls, streams, stats, reload)");
        return;
    }
    conn.request = *request;
    const uint32_t what =
        static_cast<uint32_t>(request->command) | (request->json ? kCtlJsonFlag : 0);
    auto ask = [&](proto::Process child) {
        const uint32_t seq = backend_.control_ask(child, 0, what);
        if (seq == 0) return false;
        conn.waits.push_back(Wait{child, 0, seq, {}, false});
        return true;
    };
    // Every worker that runs; one that is down (restarting) is named in
    // the answer instead. False when none runs.
    auto ask_workers = [&] {
        bool any = false;
        for (uint32_t w = 0; w < backend_.control_workers(); ++w) {
            const uint32_t seq = backend_.control_ask(proto::Process::Rtpd, w, what);
            conn.waits.push_back(Wait{proto::Process::Rtpd, w, seq, {}, seq == 0});
            any = any || seq != 0;
        }
        return any;
    };
    switch (request->command) {
        case CtlCommand::Status:
            answer(conn, true, backend_.control_status(request->json));
            return;
        case CtlCommand::Reload:
            answer(conn, true, backend_.control_reload(request->json));
            return;
        case CtlCommand::Registrations:
        case CtlCommand::Calls:
            if (!ask(proto::Process::Sipd)) answer(conn, false, "sipd is not running");
            break;
        case CtlCommand::Streams:
            if (!ask_workers()) answer(conn, false, "rtpd is not running");
            break;
        case CtlCommand::Stats:
            conn.head = backend_.control_status(request->json);
            if (!ask(proto::Process::Sipd) || !ask_workers())
                answer(conn, false, "sipd or rtpd is not running");
            break;
    }
    finish_if_complete(conn);  // every worker asked may have been down
}

void ControlServer::child_reply(proto::Process child, uint32_t worker, uint32_t seq,
                                std::string_view text, bool last) {
    for (auto& conn : connections_) {
        for (auto& wait : conn.waits) {
            if (wait.child != child || wait.worker != worker || wait.seq != seq || wait.done)
                continue;
            wait.text.append(text);
            wait.done = last;
            if (last) finish_if_complete(conn);
            return;
        }
    }
}

void ControlServer::child_gone(proto::Process child, uint32_t worker) {
    for (auto& conn : connections_) {
        for (const auto& wait : conn.waits) {
            if (wait.child == child && wait.worker == worker && !wait.done && !conn.answered) {
                answer(conn, false, std::string(child_name(child)) + " stopped before it answered");
                break;
            }
        }
    }
}

void ControlServer::finish_if_complete(Connection& conn) {
    if (conn.answered) return;
    for (const auto& wait : conn.waits)
        if (!wait.done) return;
    // The rtpd workers' answers, in worker order; the rest as it came.
    std::vector<WorkerReply> workers;
    std::string sipd;
    for (const auto& wait : conn.waits) {
        if (wait.child == proto::Process::Rtpd)
            workers.push_back(WorkerReply{wait.worker, wait.seq != 0, wait.text});
        else
            sipd += wait.text;
    }
    const bool json = conn.request.json;
    std::string text;
    switch (conn.request.command) {
        case CtlCommand::Stats:
            if (json)
                text = "{\"parent\":" + conn.head + ",\"sipd\":" + sipd +
                       ",\"rtpd\":" + merge_relay_stats(workers, true) + "}\n";
            else
                text = conn.head + "\n[sipd]\n" + sipd + "\n" + merge_relay_stats(workers, false);
            break;
        case CtlCommand::Streams:
            text = merge_streams(workers, json);
            break;
        default:
            text = sipd;
            break;
    }
    answer(conn, true, text);
}

void ControlServer::answer(Connection& conn, bool ok, const std::string& text) {
    if (conn.answered) return;
    conn.answered = true;
    std::string out = ok ? "OK\n" + text : "ERR " + text + "\n";
    if (!out.empty() && out.back() != '\n') out += '\n';
    bufferevent_write(conn.bev, out.data(), out.size());
    bufferevent_disable(conn.bev, EV_READ);
    bufferevent_setcb(conn.bev, nullptr, on_written, on_event, &conn);
    bufferevent_enable(conn.bev, EV_WRITE);
}

void ControlServer::close(Connection& conn) {
    bufferevent_free(conn.bev);
    for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (&*it == &conn) {
            connections_.erase(it);
            return;
        }
    }
}

}  // namespace sipmasq
