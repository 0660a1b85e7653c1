// The decoder against the table, one message type at a time: each accepted
// at its exact size and refused one byte short, one byte long, empty, over
// the channel's limit, with a lying length, from the wrong sender, on the
// wrong channel, in the wrong state, without its fd or with one too many.
#include "codec.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <set>
#include <string>

#include "message.h"
#include "samples.h"

namespace sipmasq::proto {
namespace {

using namespace sipmasq::proto::testing;

class PerType : public ::testing::TestWithParam<MsgType> {
  protected:
    const MsgSpec& spec() const { return spec_of(GetParam()); }
    Sample sample() const { return valid_sample(GetParam()); }
    // Decodes `s` with its payload resized to `size` (content kept valid
    // where the type has variable text).
    DecodeResult with_size(size_t size) const {
        Sample s = sample();
        if (size >= spec().min_size && size <= spec().max_size)
            s.payload = payload_for(s.type, s.sender, size);
        else
            s.payload.resize(size, 'a');
        return decode_sample(s);
    }
};

std::string type_param_name(const ::testing::TestParamInfo<MsgType>& info) {
    std::string name = msg_type_name(info.param);
    for (char& c : name)
        if (c == '_') c = 'x';
    return name;
}

TEST_P(PerType, ExactSizeAccepted) {
    const auto r = with_size(spec().min_size);
    ASSERT_EQ(r.error, DecodeError::Ok) << decode_error_name(r.error);
    EXPECT_EQ(r.message.type(), GetParam());
    EXPECT_EQ(r.message.header.length, spec().min_size);
    EXPECT_EQ(r.message.header.seq, 42u);
    EXPECT_EQ(r.message.header.version, kProtoVersion);
    const auto r2 = with_size(spec().max_size);
    EXPECT_EQ(r2.error, DecodeError::Ok) << decode_error_name(r2.error);
    EXPECT_EQ(r2.message.header.length, spec().max_size);
}

TEST_P(PerType, OneByteShort) {
    if (spec().min_size == 0) {
        // Nothing to shorten in the payload: one byte short of the header.
        const Sample s = sample();
        auto f = frame_of(s);
        f.pop_back();
        EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, DecodeError::ShortHeader);
        return;
    }
    EXPECT_EQ(with_size(spec().min_size - 1u).error, DecodeError::BadPayloadSize);
}

TEST_P(PerType, OneByteLong) {
    const Sample s = sample();
    const size_t size = spec().max_size + 1u;
    const auto expected = kHeaderSize + size > max_frame_size(s.kind) ? DecodeError::TooLong
                                                                      : DecodeError::BadPayloadSize;
    EXPECT_EQ(with_size(size).error, expected);
}

TEST_P(PerType, EmptyPayload) {
    const auto r = with_size(0);
    if (spec().min_size == 0)
        EXPECT_EQ(r.error, DecodeError::Ok);
    else
        EXPECT_EQ(r.error, DecodeError::BadPayloadSize);
}

TEST_P(PerType, ChannelLimitPlusOne) {
    const Sample s = sample();
    EXPECT_EQ(with_size(max_frame_size(s.kind) - kHeaderSize + 1).error, DecodeError::TooLong);
    // The largest frame of any channel is too long for sipd<->rtpd.
    Sample big = s;
    big.kind = ChannelKind::SipdRtpd;
    big.payload.resize(kMaxFrame - kHeaderSize);
    EXPECT_EQ(decode_sample(big).error, DecodeError::TooLong);
}

TEST_P(PerType, HeaderLengthUint32Max) {
    const Sample s = sample();
    auto f = frame_of(s);
    set_header_length(f, UINT32_MAX);
    const auto r = decode(f, s.kind, s.sender, s.state, s.fd);
    EXPECT_EQ(r.error, DecodeError::TooLong);
    EXPECT_EQ(r.message.header.type, static_cast<uint16_t>(GetParam()));
}

TEST_P(PerType, LengthDisagreesWithFrame) {
    const Sample s = sample();
    auto f = frame_of(s);
    set_header_length(f, static_cast<uint32_t>(s.payload.size() + 1));
    EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, DecodeError::LengthMismatch);
    if (!s.payload.empty()) {
        set_header_length(f, static_cast<uint32_t>(s.payload.size() - 1));
        EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, DecodeError::LengthMismatch);
    }
}

TEST_P(PerType, TruncatedToHeader) {
    const Sample s = sample();
    auto f = frame_of(s);
    f.resize(kHeaderSize);
    const auto expected = s.payload.empty() ? DecodeError::Ok : DecodeError::LengthMismatch;
    EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, expected);
    for (size_t n = 0; n < kHeaderSize; ++n)
        EXPECT_EQ(decode(std::span(f.data(), n), s.kind, s.sender, s.state, s.fd).error,
                  DecodeError::ShortHeader);
}

TEST_P(PerType, BadVersion) {
    const Sample s = sample();
    auto f = frame_of(s);
    for (uint8_t v : {0, 2, 255}) {
        f[0] = v;
        EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, DecodeError::BadVersion);
    }
}

// Every channel and sender: accepted exactly where the table says, else
// WrongChannel (never on this channel) or WrongSender (not from this end).
TEST_P(PerType, WrongSenderAndWrongChannel) {
    const Sample base = sample();
    int accepted = 0;
    for (ChannelKind kind : kAllKinds) {
        for (Process sender : kAllProcesses) {
            Sample s = base;
            s.kind = kind;
            s.sender = sender;
            s.payload = payload_for(s.type, sender, spec().min_size);
            // Valid peer_id for the channel.
            if (kind != ChannelKind::SipdRtpd) s.peer_id = 0;
            if (kind == ChannelKind::SipdRtpd && spec().peer_id == PeerIdRule::NonZero)
                s.peer_id = 7;
            const auto r = decode_sample(s);
            DecodeError expected = DecodeError::Ok;
            if ((spec().routes & routes_of(kind)) == 0)
                expected = DecodeError::WrongChannel;
            else if ((spec().routes & route_of(kind, sender)) == 0)
                expected = DecodeError::WrongSender;
            else if ((spec().states & state_bit(s.state)) == 0)
                expected = DecodeError::WrongState;
            EXPECT_EQ(r.error, expected)
                << channel_kind_name(kind) << " from " << process_name(sender) << ": "
                << decode_error_name(r.error);
            if (r.ok()) ++accepted;
        }
    }
    EXPECT_GT(accepted, 0);
}

TEST_P(PerType, WrongState) {
    const Sample base = sample();
    int refused = 0;
    for (ChannelState st : kAllStates) {
        Sample s = base;
        s.state = st;
        const bool ok = (spec().states & state_bit(st)) != 0;
        EXPECT_EQ(decode_sample(s).error, ok ? DecodeError::Ok : DecodeError::WrongState)
            << channel_state_name(st);
        if (!ok) ++refused;
    }
    if (GetParam() != MsgType::Error) {
        EXPECT_GT(refused, 0);
    }
}

TEST_P(PerType, MissingFd) {
    Sample s = sample();
    if (spec().fd == FdRule::One) {
        // No fd, no flag.
        s.fd = false;
        EXPECT_EQ(decode_sample(s).error, DecodeError::MissingFd);
    } else {
        // The flag promises an fd that did not come.
        auto f = frame_of(s);
        f[1] |= kFlagHasFd;
        EXPECT_EQ(decode(f, s.kind, s.sender, s.state, false).error, DecodeError::MissingFd);
    }
    // Flag set, fd did not arrive.
    Sample t = sample();
    t.fd = true;
    const auto f = frame_of(t);
    EXPECT_EQ(decode(f, t.kind, t.sender, t.state, false).error, DecodeError::MissingFd);
}

TEST_P(PerType, UnexpectedFd) {
    Sample s = sample();
    if (spec().fd == FdRule::One) {
        // The fd came but the header does not say so.
        s.fd = false;
        const auto f = frame_of(s);
        EXPECT_EQ(decode(f, s.kind, s.sender, s.state, true).error, DecodeError::UnexpectedFd);
    } else {
        for (bool flag : {false, true}) {
            s.fd = flag;
            const auto f = frame_of(s);
            EXPECT_EQ(decode(f, s.kind, s.sender, s.state, true).error, DecodeError::UnexpectedFd);
        }
    }
}

TEST_P(PerType, UnknownFlagBits) {
    const Sample s = sample();
    auto f = frame_of(s);
    f[1] |= 0x80;
    EXPECT_EQ(decode(f, s.kind, s.sender, s.state, s.fd).error, DecodeError::BadField);
}

TEST_P(PerType, PeerIdRule) {
    Sample s = sample();
    if (s.kind != ChannelKind::SipdRtpd) {
        s.peer_id = 1;
        EXPECT_EQ(decode_sample(s).error, DecodeError::BadField);
        return;
    }
    if (spec().peer_id == PeerIdRule::NonZero) {
        s.peer_id = 0;
        EXPECT_EQ(decode_sample(s).error, DecodeError::BadField);
    } else if (spec().peer_id == PeerIdRule::Zero) {
        s.peer_id = 9;
        EXPECT_EQ(decode_sample(s).error, DecodeError::BadField);
    }
}

TEST_P(PerType, HasAName) {
    EXPECT_STRNE(msg_type_name(GetParam()), "UNKNOWN");
    EXPECT_STREQ(msg_type_name(GetParam()), spec().name);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, PerType, ::testing::ValuesIn(all_types()), type_param_name);

TEST(Decode, UnknownTypes) {
    for (uint16_t t : {uint16_t{0}, uint16_t{kMsgTypeLast + 1}, uint16_t{1000}, uint16_t{0xffff}}) {
        std::vector<uint8_t> f(kHeaderSize);
        ASSERT_EQ(encode(f, static_cast<MsgType>(t), 0, 1, {}, false), kHeaderSize);
        for (ChannelKind kind : kAllKinds) {
            const auto r = decode(f, kind, Process::Parent, ChannelState::Running, false);
            EXPECT_EQ(r.error, DecodeError::UnknownType) << t;
            EXPECT_EQ(r.message.header.type, t);
        }
        EXPECT_STREQ(msg_type_name(static_cast<MsgType>(t)), "UNKNOWN");
    }
}

// One field out of range at a time, on an otherwise valid message.
template <class T, class F>
DecodeError decode_with(MsgType type, F mutate) {
    Sample s = valid_sample(type);
    T v = payload_as<T>(Message{Header{}, s.payload});
    mutate(v);
    s.payload = bytes_of(v);
    return decode_sample(s).error;
}

TEST(Decode, FieldChecks) {
    EXPECT_EQ(decode_with<HelloMsg>(MsgType::Hello, [](HelloMsg& h) { h.process = 2; }),
              DecodeError::BadField);  // sipd claiming to be rtpd
    EXPECT_EQ(decode_with<HelloMsg>(MsgType::Hello, [](HelloMsg& h) { h.proto_version = 2; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<SipSocketMsg>(MsgType::SipSocket, [](SipSocketMsg& m) { m.side = 2; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<SipSocketMsg>(MsgType::SipSocket,
                                        [](SipSocketMsg& m) { m.local.family = kWireNone; }),
              DecodeError::BadField);
    // The transport byte: UDP and a TCP listener are known, nothing else.
    EXPECT_EQ(decode_with<SipSocketMsg>(MsgType::SipSocket,
                                        [](SipSocketMsg& m) { m.transport = kSipTcpListener; }),
              DecodeError::Ok);
    EXPECT_EQ(
        decode_with<SipSocketMsg>(MsgType::SipSocket, [](SipSocketMsg& m) { m.transport = 2; }),
        DecodeError::BadField);
    // LOCAL_ADDRESS: a side, came or gone, a bare address (no port).
    EXPECT_EQ(decode_with<LocalAddressMsg>(MsgType::LocalAddress,
                                           [](LocalAddressMsg& m) { m.change = kAddressGone; }),
              DecodeError::Ok);
    EXPECT_EQ(decode_with<LocalAddressMsg>(MsgType::LocalAddress,
                                           [](LocalAddressMsg& m) { m.change = 2; }),
              DecodeError::BadField);
    EXPECT_EQ(
        decode_with<LocalAddressMsg>(MsgType::LocalAddress, [](LocalAddressMsg& m) { m.side = 2; }),
        DecodeError::BadField);
    EXPECT_EQ(decode_with<LocalAddressMsg>(MsgType::LocalAddress,
                                           [](LocalAddressMsg& m) { m.local.port = 5060; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<LocalAddressMsg>(MsgType::LocalAddress,
                                           [](LocalAddressMsg& m) { m.local.family = kWireNone; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<LocalAddressMsg>(MsgType::LocalAddress,
                                           [](LocalAddressMsg& m) { m.pad[1] = 1; }),
              DecodeError::BadField);
    // PEER_CHANNEL names one of 1..16 rtpd workers.
    EXPECT_EQ(decode_with<PeerChannelMsg>(MsgType::PeerChannel,
                                          [](PeerChannelMsg& m) { m.worker = m.workers; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<PeerChannelMsg>(MsgType::PeerChannel,
                                          [](PeerChannelMsg& m) {
                                              m = {0, 0};
                                          }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<PeerChannelMsg>(MsgType::PeerChannel,
                                          [](PeerChannelMsg& m) {
                                              m = {16, 17};
                                          }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<PeerChannelMsg>(MsgType::PeerChannel,
                                          [](PeerChannelMsg& m) {
                                              m = {15, 16};
                                          }),
              DecodeError::Ok);
    EXPECT_EQ(decode_with<StartFwd>(MsgType::StartFwd, [](StartFwd& m) { m.tag[63] = 'x'; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<StartFwd>(MsgType::StartFwd, [](StartFwd& m) { m.flags = 0x10; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<StartFwd>(MsgType::StartFwd,
                                    [](StartFwd& m) { m.flags = kFwdInsideMux | kFwdOutsideMux; }),
              DecodeError::Ok);  // rtcp-mux on both legs
    EXPECT_EQ(
        decode_with<StartFwd>(MsgType::StartFwd, [](StartFwd& m) { m.inside_peer.family = 5; }),
        DecodeError::BadField);
    EXPECT_EQ(
        decode_with<StartFwd>(MsgType::StartFwd, [](StartFwd& m) { m.outside_local.addr[9] = 1; }),
        DecodeError::BadField);  // v4 with bytes past the fourth
    EXPECT_EQ(decode_with<StartFwd>(MsgType::StartFwd,
                                    [](StartFwd& m) { m.outside_local.family = kWireNone; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<StartFwd>(MsgType::StartFwd, [](StartFwd& m) { m.inside_port = 0; }),
              DecodeError::Ok);  // 0 = allocate
    EXPECT_EQ(decode_with<StartFwd>(MsgType::FwdEntry, [](StartFwd& m) { m.inside_port = 0; }),
              DecodeError::BadField);  // an entry has its actual ports
    EXPECT_EQ(decode_with<FwdStartedMsg>(MsgType::FwdStarted,
                                         [](FwdStartedMsg& m) { m.inside_local.family = 0; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<FwdFailedMsg>(MsgType::FwdFailed,
                                        [](FwdFailedMsg& m) { std::memset(m.text, 'x', 64); }),
              DecodeError::BadField);
    EXPECT_EQ(
        decode_with<FwdTimeoutMsg>(MsgType::FwdTimeout, [](FwdTimeoutMsg& m) { m.reason = 0; }),
        DecodeError::BadField);
    EXPECT_EQ(
        decode_with<FwdTimeoutMsg>(MsgType::FwdTimeout, [](FwdTimeoutMsg& m) { m.reason = 4; }),
        DecodeError::BadField);
    EXPECT_EQ(decode_with<StatsMsg>(MsgType::Stats, [](StatsMsg& m) { m.count = 33; }),
              DecodeError::BadField);
    EXPECT_EQ(decode_with<StatsMsg>(MsgType::Stats, [](StatsMsg& m) { m.count = 32; }),
              DecodeError::Ok);
}

TEST(Decode, LogAndCtlText) {
    Sample s = valid_sample(MsgType::Log);
    s.payload = head_and_text(8, 3);  // level beyond debug
    EXPECT_EQ(decode_sample(s).error, DecodeError::BadField);
    s.payload = head_and_text(3, 3);
    s.payload[2] = '\0';
    EXPECT_EQ(decode_sample(s).error, DecodeError::BadField);
    s.payload = head_and_text(3, 3);
    std::vector<uint8_t> frame;
    const auto r = decode_kept(s, frame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(payload_as<LogHead>(r.message).level, 3);
    EXPECT_EQ(payload_text(r.message, sizeof(LogHead)), "aaa");

    Sample c = valid_sample(MsgType::CtlReply);
    c.payload = head_and_text(2, 4);
    EXPECT_EQ(decode_sample(c).error, DecodeError::BadField);
    c.payload = head_and_text(0, 0);
    const auto rc = decode_kept(c, frame);
    ASSERT_TRUE(rc.ok());
    EXPECT_EQ(payload_text(rc.message, sizeof(CtlReplyHead)), "");
}

TEST(Encode, RoundTripAndOverflow) {
    const StartFwd sf = sample_start_fwd();
    std::vector<uint8_t> out(kHeaderSize + sizeof(sf));
    ASSERT_EQ(encode(out, MsgType::StartFwd, 77, 9, sf, false), out.size());
    const auto r = decode(out, ChannelKind::SipdRtpd, Process::Sipd, ChannelState::Running, false);
    ASSERT_TRUE(r.ok()) << decode_error_name(r.error);
    EXPECT_EQ(r.message.header.peer_id, 77u);
    EXPECT_EQ(r.message.header.seq, 9u);
    const auto back = payload_as<StartFwd>(r.message);
    EXPECT_EQ(std::memcmp(&back, &sf, sizeof(sf)), 0);
    EXPECT_EQ(fixed_text(back.tag), "call-1@192.0.2.10");
    EXPECT_EQ(back.inside_rtcp_port, 8005);
    EXPECT_EQ(back.outside_rtcp_port, 0);

    // One byte too small a buffer: nothing written, 0.
    std::vector<uint8_t> small(out.size() - 1, 0xee);
    EXPECT_EQ(encode(small, MsgType::StartFwd, 77, 9, sf, false), 0u);
    EXPECT_EQ(small[0], 0xee);
    // A payload larger than any frame.
    std::vector<uint8_t> huge(kMaxFrame);
    std::vector<uint8_t> big_out(2 * kMaxFrame);
    EXPECT_EQ(encode(big_out, MsgType::Log, 0, 1, huge, false), 0u);
}

TEST(Encode, PayloadAsShortPayloadIsZeroFilled) {
    const uint8_t one[] = {0x11};
    Message m{Header{}, std::span<const uint8_t>(one, 1)};
    const auto v = payload_as<PingMsg>(m);
    EXPECT_EQ(v.nonce, 0x11u);
}

TEST(Names, AllDistinct) {
    std::set<std::string> names;
    for (int e = 0; e <= static_cast<int>(DecodeError::BadField); ++e)
        names.insert(decode_error_name(static_cast<DecodeError>(e)));
    EXPECT_EQ(names.size(), static_cast<size_t>(DecodeError::BadField) + 1);
    std::set<std::string> types;
    for (MsgType t : all_types()) types.insert(msg_type_name(t));
    EXPECT_EQ(types.size(), kMsgTypeCount);
}

TEST(Fixed, SetFixedTextTruncatesAndTerminates) {
    char field[8];
    set_fixed_text(field, "0123456789");
    EXPECT_EQ(fixed_text(field), "0123456");
    EXPECT_EQ(field[7], '\0');
    set_fixed_text(field, "");
    EXPECT_EQ(fixed_text(field), "");
}

}  // namespace
}  // namespace sipmasq::proto
