// Framing and Channel over real socket pairs: descriptors passed and
// received, and every bad frame (too big, truncated, with an fd it should
// not have, with too many fds) refused with no descriptor left open.
#include "channel.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "address.h"
#include "framing.h"
#include "samples.h"

namespace sipmasq::proto {
namespace {

using namespace sipmasq::proto::testing;

int count_open_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    while (const dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n - 1;  // the directory's own descriptor
}

struct Pipe {
    UniqueFd r, w;
    Pipe() {
        int p[2];
        EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
        r.reset(p[0]);
        w.reset(p[1]);
    }
};

bool same_file(int a, int b) {
    struct stat sa {};
    struct stat sb {};
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

// sendmsg with any number of fds, to play a misbehaving peer.
ssize_t send_with_fds(int sock, const std::vector<uint8_t>& frame, const std::vector<int>& fds) {
    iovec iov{const_cast<uint8_t*>(frame.data()), frame.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        if (c == nullptr) return -1;
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

struct Pair {
    UniqueFd a, b;
    Pair() { EXPECT_EQ(seqpacket_pair(a, b), 0); }
};

TEST(Framing, FdRoundTrip) {
    Pair p;
    Pipe pipe;
    const auto f = frame_of(valid_sample(MsgType::PeerChannel));
    ASSERT_EQ(send_frame(p.a.get(), f, pipe.w.get()), static_cast<ssize_t>(f.size()));
    std::vector<uint8_t> buf(kMaxFrame);
    UniqueFd got;
    ASSERT_EQ(recv_frame(p.b.get(), buf, got), static_cast<ssize_t>(f.size()));
    ASSERT_TRUE(got.valid());
    EXPECT_NE(got.get(), pipe.w.get());
    EXPECT_TRUE(same_file(got.get(), pipe.w.get()));
    EXPECT_TRUE((fcntl(got.get(), F_GETFD) & FD_CLOEXEC) != 0);
    // The passed end works: write through it, read from our pipe.
    ASSERT_EQ(write(got.get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(read(pipe.r.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(Framing, NothingWaitingAndPeerClosed) {
    Pair p;
    std::vector<uint8_t> buf(kMaxFrame);
    UniqueFd got;
    EXPECT_EQ(recv_frame(p.b.get(), buf, got), -EAGAIN);
    p.a.reset();
    EXPECT_EQ(recv_frame(p.b.get(), buf, got), 0);
    // Sending to a closed peer: an error, not SIGPIPE.
    EXPECT_LT(send_frame(p.b.get(), frame_of(valid_sample(MsgType::Ping))), 0);
}

TEST(Framing, FrameLargerThanBufferClosesItsFd) {
    Pair p;
    Pipe pipe;
    const int before = count_open_fds();
    std::vector<uint8_t> big(kMaxFrameSipdRtpd + 1, 0);
    ASSERT_GT(send_frame(p.a.get(), big, pipe.r.get()), 0);
    std::vector<uint8_t> buf(kMaxFrameSipdRtpd);
    UniqueFd got;
    EXPECT_EQ(recv_frame(p.b.get(), buf, got), -EMSGSIZE);
    EXPECT_FALSE(got.valid());
    EXPECT_EQ(count_open_fds(), before);
}

TEST(Framing, TwoFdsBothClosed) {
    Pair p;
    Pipe pipe;
    const int before = count_open_fds();
    const auto f = frame_of(valid_sample(MsgType::PeerChannel));
    ASSERT_GT(send_with_fds(p.a.get(), f, {pipe.r.get(), pipe.w.get()}), 0);
    std::vector<uint8_t> buf(kMaxFrame);
    UniqueFd got;
    EXPECT_EQ(recv_frame(p.b.get(), buf, got), -EPROTO);
    EXPECT_FALSE(got.valid());
    EXPECT_EQ(count_open_fds(), before);
}

TEST(Framing, TruncatedControlMessageClosesWhatArrived) {
    Pair p;
    Pipe pipe;
    const int before = count_open_fds();
    // More than the receive side has room for: the kernel sets MSG_CTRUNC
    // and installs only those that fit.
    std::vector<int> fds(kMaxFdsSeen + 4, pipe.r.get());
    const auto f = frame_of(valid_sample(MsgType::PeerChannel));
    ASSERT_GT(send_with_fds(p.a.get(), f, fds), 0);
    std::vector<uint8_t> buf(kMaxFrame);
    UniqueFd got;
    EXPECT_EQ(recv_frame(p.b.get(), buf, got), -EPROTO);
    EXPECT_FALSE(got.valid());
    EXPECT_EQ(count_open_fds(), before);
}

// A parent and a sipd end, both non-blocking.
struct ParentSipd {
    Channel parent;
    Channel sipd;
    static ParentSipd make() {
        UniqueFd a, b;
        EXPECT_EQ(seqpacket_pair(a, b), 0);
        return {Channel(std::move(a), ChannelKind::ParentSipd, Process::Parent),
                Channel(std::move(b), ChannelKind::ParentSipd, Process::Sipd)};
    }
};

HelloMsg hello_of(Process p) {
    HelloMsg h{};
    h.pid = static_cast<uint32_t>(getpid());
    h.process = static_cast<uint8_t>(p);
    h.proto_version = kProtoVersion;
    return h;
}

TEST(Channel, HandshakeConfigurationAndStats) {
    auto c = ParentSipd::make();
    ASSERT_TRUE(c.parent.valid());
    ASSERT_TRUE(c.sipd.valid());
    EXPECT_EQ(c.parent.peer(), Process::Sipd);
    EXPECT_EQ(c.parent.state(), ChannelState::AwaitHello);
    Message m;
    UniqueFd fd;
    EXPECT_EQ(c.parent.receive(m, fd), ReceiveStatus::Nothing);

    // READY before HELLO is refused before it leaves.
    EXPECT_EQ(c.sipd.send_empty(MsgType::Ready), -EINVAL);
    ASSERT_EQ(c.sipd.send(MsgType::Hello, 0, hello_of(Process::Sipd)), 0);
    EXPECT_EQ(c.sipd.state(), ChannelState::AwaitReady);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.type(), MsgType::Hello);
    EXPECT_EQ(payload_as<HelloMsg>(m).pid, static_cast<uint32_t>(getpid()));
    EXPECT_EQ(c.parent.state(), ChannelState::AwaitReady);

    // Configuration: the state directory as an fd.
    Pipe pipe;
    ASSERT_EQ(c.parent.send_empty(MsgType::StateDir, 0, pipe.r.get()), 0);
    ASSERT_EQ(c.sipd.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.type(), MsgType::StateDir);
    ASSERT_TRUE(fd.valid());
    EXPECT_TRUE(same_file(fd.get(), pipe.r.get()));
    // ... and a type that needs an fd is not sent without one.
    EXPECT_EQ(c.parent.send_empty(MsgType::StateDir), -EINVAL);
    // STATS_REQ is for a running child only.
    EXPECT_EQ(c.parent.send_empty(MsgType::StatsReq), -EINVAL);

    ASSERT_EQ(c.sipd.send_empty(MsgType::Ready), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(c.parent.state(), ChannelState::Running);
    EXPECT_EQ(c.sipd.state(), ChannelState::Running);

    ASSERT_EQ(c.parent.send_empty(MsgType::StatsReq), 0);
    const uint32_t req_seq = c.parent.last_sent_seq();
    EXPECT_NE(req_seq, 0u);
    ASSERT_EQ(c.sipd.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.header.seq, req_seq);
    StatsMsg st{};
    st.count = 1;
    st.values[0] = 99;
    ASSERT_EQ(c.sipd.send(MsgType::Stats, 0, st, -1, m.header.seq), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.header.seq, req_seq);
    EXPECT_EQ(payload_as<StatsMsg>(m).values[0], 99u);

    c.sipd = Channel(UniqueFd(), ChannelKind::ParentSipd, Process::Sipd);  // closes sipd's end
    EXPECT_EQ(c.parent.receive(m, fd), ReceiveStatus::Closed);
}

TEST(Channel, BadMessageAnsweredWithError) {
    auto c = ParentSipd::make();
    // A PING before HELLO: wrong state at the parent.
    const auto ping = frame_of(valid_sample(MsgType::Ping));
    ASSERT_GT(send_frame(c.sipd.fd(), ping), 0);
    Message m;
    UniqueFd fd;
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.parent.last_decode_error(), DecodeError::WrongState);
    EXPECT_EQ(c.parent.last_bad_header().type, static_cast<uint16_t>(MsgType::Ping));
    EXPECT_EQ(c.parent.state(), ChannelState::AwaitHello);
    ASSERT_EQ(c.parent.send_error_for_last(), 0);

    ASSERT_EQ(c.sipd.send(MsgType::Hello, 0, hello_of(Process::Sipd)), 0);
    ASSERT_EQ(c.sipd.receive(m, fd), ReceiveStatus::Message);
    ASSERT_EQ(m.type(), MsgType::Error);
    const auto e = payload_as<ErrorMsg>(m);
    EXPECT_EQ(e.code, static_cast<uint32_t>(DecodeError::WrongState));
    EXPECT_EQ(e.about_type, static_cast<uint16_t>(MsgType::Ping));
    EXPECT_EQ(m.header.seq, 42u);  // the seq of the refused message
}

TEST(Channel, UnexpectedFdIsClosed) {
    auto c = ParentSipd::make();
    ASSERT_EQ(c.sipd.send(MsgType::Hello, 0, hello_of(Process::Sipd)), 0);
    Message m;
    UniqueFd fd;
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);

    Pipe pipe;
    const int before = count_open_fds();
    // A PING with an fd and the flag: a type that takes none.
    auto s = valid_sample(MsgType::Ping);
    s.fd = true;
    ASSERT_GT(send_frame(c.sipd.fd(), frame_of(s), pipe.w.get()), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.parent.last_decode_error(), DecodeError::UnexpectedFd);
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(count_open_fds(), before);

    // Two fds on a message that takes one.
    ASSERT_GT(send_with_fds(c.sipd.fd(), frame_of(valid_sample(MsgType::Ready)),
                            {pipe.r.get(), pipe.w.get()}),
              0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.parent.last_decode_error(), DecodeError::UnexpectedFd);
    EXPECT_EQ(count_open_fds(), before);
    EXPECT_EQ(c.parent.state(), ChannelState::AwaitReady);  // READY not taken

    // The channel still works.
    ASSERT_EQ(c.sipd.send_empty(MsgType::Ready), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(c.parent.state(), ChannelState::Running);
}

TEST(Channel, LogLinesCutAndCleaned) {
    auto c = ParentSipd::make();
    EXPECT_EQ(c.sipd.send_log(6, "too early"), -EINVAL);  // before HELLO
    ASSERT_EQ(c.sipd.send(MsgType::Hello, 0, hello_of(Process::Sipd)), 0);
    Message m;
    UniqueFd fd;
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);

    const std::string with_nul("a\0b", 3);
    ASSERT_EQ(c.sipd.send_log(4, with_nul), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(payload_as<LogHead>(m).level, 4);
    EXPECT_EQ(payload_text(m, sizeof(LogHead)), "a?b");

    ASSERT_EQ(c.sipd.send_log(6, std::string(3000, 'x')), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(payload_text(m, sizeof(LogHead)).size(), kLogTextMax);

    ASSERT_EQ(c.sipd.send_log(6, ""), 0);
    ASSERT_EQ(c.parent.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(payload_text(m, sizeof(LogHead)), "-");
    EXPECT_EQ(c.sipd.send_log(9, "bad level"), -EINVAL);
}

// A sipd<->rtpd pair (starts Running).
struct SipdRtpd {
    Channel sipd;
    Channel rtpd;
    static SipdRtpd make() {
        UniqueFd a, b;
        EXPECT_EQ(seqpacket_pair(a, b), 0);
        return {Channel(std::move(a), ChannelKind::SipdRtpd, Process::Sipd),
                Channel(std::move(b), ChannelKind::SipdRtpd, Process::Rtpd)};
    }
};

TEST(Channel, ForwardRequestAndReply) {
    auto c = SipdRtpd::make();
    EXPECT_EQ(c.sipd.state(), ChannelState::Running);
    ASSERT_EQ(c.sipd.send(MsgType::StartFwd, 1001, sample_start_fwd()), 0);
    // rtpd may not start forwards; sipd may not start one without an id.
    EXPECT_EQ(c.rtpd.send(MsgType::StartFwd, 1001, sample_start_fwd()), -EINVAL);
    EXPECT_EQ(c.sipd.send(MsgType::StartFwd, 0, sample_start_fwd()), -EINVAL);
    Message m;
    UniqueFd fd;
    ASSERT_EQ(c.rtpd.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.type(), MsgType::StartFwd);
    EXPECT_EQ(m.header.peer_id, 1001u);
    EXPECT_EQ(fixed_text(payload_as<StartFwd>(m).tag), "call-1@192.0.2.10");
    FwdStartedMsg started{};
    started.inside_local = wire_v4(192, 0, 2, 1, 30000);
    started.outside_local = wire_v4(203, 0, 113, 1, 30002);
    ASSERT_EQ(c.rtpd.send(MsgType::FwdStarted, m.header.peer_id, started, -1, m.header.seq), 0);
    ASSERT_EQ(c.sipd.receive(m, fd), ReceiveStatus::Message);
    EXPECT_EQ(m.type(), MsgType::FwdStarted);
    EXPECT_EQ(m.header.peer_id, 1001u);
    EXPECT_EQ(m.header.seq, c.sipd.last_sent_seq());
    EXPECT_EQ(payload_as<FwdStartedMsg>(m).outside_local.port, 30002);
}

TEST(Framing, PackedFramesGoOneRecordEachInOrderBeyondOneCall) {
    Pair p;
    // 100 frames of 1..100 bytes, back to back: more than one sendmmsg.
    std::vector<uint8_t> buf;
    std::vector<uint16_t> ends;
    for (int i = 1; i <= 100; ++i) {
        buf.insert(buf.end(), static_cast<size_t>(i), static_cast<uint8_t>(i));
        ends.push_back(static_cast<uint16_t>(buf.size()));
    }
    int error = -1;
    EXPECT_EQ(send_packed_frames(p.a.get(), buf.data(), ends, error), 100u);
    EXPECT_EQ(error, 0);
    std::vector<uint8_t> got(256);
    UniqueFd fd;
    for (int i = 1; i <= 100; ++i) {
        ASSERT_EQ(recv_frame(p.b.get(), got, fd), i);
        EXPECT_EQ(got[0], i);
        EXPECT_EQ(got[static_cast<size_t>(i) - 1], i);
    }
    EXPECT_EQ(recv_frame(p.b.get(), got, fd), -EAGAIN);
}

// Gathered messages: each still a record of its own, valid as sent one by
// one, in the order given, whatever mix of queue(), send() and a peer
// whose queue fills.
std::vector<uint32_t> received_ids(Channel& ch, std::vector<uint32_t>* seqs = nullptr) {
    std::vector<uint32_t> ids;
    Message m;
    UniqueFd fd;
    for (ReceiveStatus st;
         (st = ch.receive(m, fd)) != ReceiveStatus::Nothing && st != ReceiveStatus::Closed;) {
        EXPECT_EQ(st, ReceiveStatus::Message);
        if (st != ReceiveStatus::Message) break;
        ids.push_back(m.header.peer_id);
        if (seqs != nullptr) seqs->push_back(m.header.seq);
    }
    return ids;
}

TEST(ChannelBatch, QueuedMessagesWaitForFlushAndArriveInOrder) {
    auto c = SipdRtpd::make();
    for (uint32_t id = 1; id <= 10; ++id)
        ASSERT_EQ(c.sipd.queue(MsgType::StartFwd, id, sample_start_fwd()), 0);
    ASSERT_EQ(c.sipd.queue(MsgType::StopFwd, 3, std::span<const uint8_t>{}), 0);
    EXPECT_EQ(c.sipd.queued(), 11u);
    EXPECT_TRUE(received_ids(c.rtpd).empty()) << "nothing leaves before flush()";
    EXPECT_EQ(c.sipd.flush(), 0);
    EXPECT_EQ(c.sipd.queued(), 0u);
    std::vector<uint32_t> seqs;
    const auto ids = received_ids(c.rtpd, &seqs);
    EXPECT_EQ(ids, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 3}));
    // Numbered as they were queued.
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seqs[i - 1] + 1);
    EXPECT_EQ(seqs.back(), c.sipd.last_sent_seq());
    EXPECT_EQ(c.sipd.flush(), 0);  // nothing kept: nothing to do
}

TEST(ChannelBatch, ARepliesSeqAndAnInvalidMessage) {
    auto c = SipdRtpd::make();
    FwdStartedMsg started{};
    started.inside_local = wire_v4(192, 0, 2, 1, 30000);
    started.outside_local = wire_v4(203, 0, 113, 1, 30002);
    ASSERT_EQ(c.rtpd.queue(MsgType::FwdStarted, 7, started, 4242), 0);
    // Checked as send() checks: rtpd may not start forwards.
    EXPECT_EQ(c.rtpd.queue(MsgType::StartFwd, 8, sample_start_fwd()), -EINVAL);
    EXPECT_EQ(c.rtpd.queued(), 1u);
    ASSERT_EQ(c.rtpd.flush(), 0);
    std::vector<uint32_t> seqs;
    EXPECT_EQ(received_ids(c.sipd, &seqs), std::vector<uint32_t>{7});
    EXPECT_EQ(seqs, std::vector<uint32_t>{4242});
}

TEST(ChannelBatch, SendGoesAfterWhatWasQueued) {
    auto c = SipdRtpd::make();
    ASSERT_EQ(c.sipd.queue(MsgType::StartFwd, 1, sample_start_fwd()), 0);
    ASSERT_EQ(c.sipd.queue(MsgType::StartFwd, 2, sample_start_fwd()), 0);
    ASSERT_EQ(c.sipd.send(MsgType::StopFwd, 1, std::span<const uint8_t>{}), 0);
    EXPECT_EQ(c.sipd.queued(), 0u);
    EXPECT_EQ(received_ids(c.rtpd), (std::vector<uint32_t>{1, 2, 1}));
}

TEST(ChannelBatch, AFullBatchGoesBeforeTheNextMessage) {
    auto c = SipdRtpd::make();
    for (uint32_t id = 1; id <= Channel::kBatchFrames + 1; ++id)
        ASSERT_EQ(c.sipd.queue(MsgType::StartFwd, id, sample_start_fwd()), 0);
    EXPECT_EQ(c.sipd.queued(), 1u);
    auto ids = received_ids(c.rtpd);
    ASSERT_EQ(ids.size(), Channel::kBatchFrames);
    EXPECT_EQ(ids.front(), 1u);
    EXPECT_EQ(ids.back(), Channel::kBatchFrames);
    // Larger frames fill the bytes before the count: parent LOG lines.
    UniqueFd a, b;
    ASSERT_EQ(seqpacket_pair(a, b), 0);
    Channel child(std::move(a), ChannelKind::ParentSipd, Process::Sipd);
    Channel parent(std::move(b), ChannelKind::ParentSipd, Process::Parent);
    child.set_state(ChannelState::Running);
    parent.set_state(ChannelState::Running);
    std::vector<uint8_t> line(1 + kLogTextMax, 'x');
    line[0] = 6;
    size_t kept = 0;
    for (size_t i = 0; i < Channel::kBatchFrames && kept == i; ++i) {
        ASSERT_EQ(child.queue(MsgType::Log, 0, line), 0);
        kept = child.queued();
    }
    EXPECT_LT(kept, Channel::kBatchFrames);
    EXPECT_LE(kept * (kHeaderSize + line.size()), Channel::kBatchBytes);
}

TEST(ChannelBatch, APeerThatDoesNotReadKeepsTheRestInOrder) {
    auto c = SipdRtpd::make();
    // Queue until the batch is full and the peer's queue too.
    uint32_t given = 0;
    int rc = 0;
    while (given < 100000 &&
           (rc = c.sipd.queue(MsgType::StartFwd, given + 1, sample_start_fwd())) == 0)
        ++given;
    ASSERT_EQ(rc, -EAGAIN) << "the peer's queue never filled";
    // What the peer could not take stays kept, within the bound.
    EXPECT_GT(c.sipd.queued(), 0u);
    EXPECT_LE(c.sipd.queued(), Channel::kBatchFrames);
    EXPECT_EQ(c.sipd.flush(), -EAGAIN);
    // A send() cannot jump the queue either.
    EXPECT_EQ(c.sipd.send(MsgType::StopFwd, 1, std::span<const uint8_t>{}), -EAGAIN);
    // The peer reads; every message kept arrives once, in order.
    std::vector<uint32_t> ids;
    for (int round = 0; round < 1000; ++round) {
        const auto got = received_ids(c.rtpd);
        ids.insert(ids.end(), got.begin(), got.end());
        if (c.sipd.flush() == 0 && got.empty()) break;
    }
    ASSERT_EQ(ids.size(), given);
    for (uint32_t i = 0; i < given; ++i) ASSERT_EQ(ids[i], i + 1);
}

TEST(ChannelBatch, WhatIsKeptIsSentWhenTheChannelEnds) {
    UniqueFd a, b;
    ASSERT_EQ(seqpacket_pair(a, b), 0);
    Channel rtpd(std::move(b), ChannelKind::SipdRtpd, Process::Rtpd);
    {
        Channel sipd(std::move(a), ChannelKind::SipdRtpd, Process::Sipd);
        ASSERT_EQ(sipd.queue(MsgType::StopFwd, 5, std::span<const uint8_t>{}), 0);
        Channel moved(std::move(sipd));  // the batch moves with it
        EXPECT_EQ(moved.queued(), 1u);
    }
    EXPECT_EQ(received_ids(rtpd), std::vector<uint32_t>{5});
}

TEST(Channel, FrameOverTheChannelLimit) {
    auto c = SipdRtpd::make();
    Pipe pipe;
    const int before = count_open_fds();
    std::vector<uint8_t> big(kMaxFrameSipdRtpd + 1, 0);
    ASSERT_GT(send_frame(c.sipd.fd(), big, pipe.r.get()), 0);
    Message m;
    UniqueFd fd;
    ASSERT_EQ(c.rtpd.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.rtpd.last_decode_error(), DecodeError::TooLong);
    EXPECT_EQ(count_open_fds(), before);
    // A LOG-sized payload cannot even be sent on this channel.
    std::vector<uint8_t> payload(600, 'a');
    EXPECT_EQ(c.sipd.send(MsgType::Ping, 0, payload), -EMSGSIZE);
}

TEST(Channel, TruncatedFrames) {
    auto c = SipdRtpd::make();
    Message m;
    UniqueFd fd;
    auto f = frame_of(valid_sample(MsgType::StartFwd));
    f.resize(kHeaderSize);  // the header alone, promising 152 bytes
    ASSERT_GT(send_frame(c.sipd.fd(), f), 0);
    ASSERT_EQ(c.rtpd.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.rtpd.last_decode_error(), DecodeError::LengthMismatch);
    f.resize(7);
    ASSERT_GT(send_frame(c.sipd.fd(), f), 0);
    ASSERT_EQ(c.rtpd.receive(m, fd), ReceiveStatus::Invalid);
    EXPECT_EQ(c.rtpd.last_decode_error(), DecodeError::ShortHeader);
    EXPECT_EQ(c.rtpd.receive(m, fd), ReceiveStatus::Nothing);
}

TEST(Channel, NotAnEndOfTheChannel) {
    UniqueFd a, b;
    ASSERT_EQ(seqpacket_pair(a, b), 0);
    Channel ch(std::move(a), ChannelKind::SipdRtpd, Process::Parent);
    EXPECT_FALSE(ch.valid());
    EXPECT_EQ(ch.send_empty(MsgType::ListFwd), -EBADF);
    Message m;
    UniqueFd fd;
    EXPECT_EQ(ch.receive(m, fd), ReceiveStatus::IoError);
}

TEST(WireAddr, RoundTrip) {
    for (const char* text : {"192.0.2.1:5060", "[2001:db8::1]:7078"}) {
        const auto a = SockAddr::parse(text);
        ASSERT_TRUE(a.has_value()) << text;
        const WireAddr w = to_wire(*a);
        EXPECT_EQ(w.family, a->is_v4() ? kWireV4 : kWireV6);
        const auto back = from_wire(w);
        ASSERT_TRUE(back.has_value());
        EXPECT_TRUE(*back == *a) << back->to_string();
    }
    EXPECT_EQ(to_wire(SockAddr()).family, kWireNone);
    EXPECT_FALSE(from_wire(WireAddr{}).has_value());
    WireAddr odd{};
    odd.family = 5;
    EXPECT_FALSE(from_wire(odd).has_value());
}

}  // namespace
}  // namespace sipmasq::proto
