// The sipmasqctl answers of rtpd: table and JSON of streams and stats.
#include "relay_report.h"

#include <gtest/gtest.h>

#include "relay_test_util.h"

namespace sipmasq {
namespace {

using test::ep;

ForwardInfo sample() {
    ForwardInfo f;
    f.id = 5;
    f.inside_local = ep("127.0.0.1", 30000);
    f.outside_local = ep("127.0.0.2", 30002);
    f.inside_peer = ep("192.0.2.10", 4000);
    f.outside_peer = ep("198.51.100.7", 5000);
    f.created_ms = 1000;
    f.stats[0].packets = 10;
    f.stats[0].bytes = 1720;
    f.stats[0].drops[static_cast<size_t>(DropReason::WrongSource)] = 3;
    f.stats[0].last_ms = 5000;
    f.stats[1].packets = 9;
    return f;
}

TEST(RelayReport, StreamsTableNamesTheCallPortsPeersAndIdle) {
    const std::string tag = "abc@host";
    const auto text = format_streams(
        {sample()}, [&](uint32_t) -> const std::string& { return tag; }, 12000, 1, false);
    EXPECT_NE(text.find("abc@host"), std::string::npos) << text;
    // The worker column first: the parent merges the workers' tables.
    EXPECT_EQ(text.rfind("worker ", 0), 0u) << text;
    EXPECT_NE(text.find("\n1      "), std::string::npos) << text;
    EXPECT_NE(text.find("127.0.0.1:30000"), std::string::npos);
    EXPECT_NE(text.find("198.51.100.7:5000"), std::string::npos);
    EXPECT_NE(text.find("    7s"), std::string::npos) << text;  // 12 s - last 5 s
    EXPECT_NE(text.find("1 streams"), std::string::npos);
}

TEST(RelayReport, StreamsJsonEscapesTheTag) {
    const std::string tag = "a\"b\\c\x01";
    const auto text = format_streams(
        {sample()}, [&](uint32_t) -> const std::string& { return tag; }, 12000, 3, true);
    EXPECT_EQ(text.rfind("{\"streams\":[{\"worker\":3,", 0), 0u) << text;
    EXPECT_NE(text.find("\"call\":\"a\\\"b\\\\c\\u0001\""), std::string::npos) << text;
    EXPECT_NE(
        text.find("\"in_to_out\":{\"packets\":10,\"bytes\":1720,\"drops\":{\"wrong_source\":3"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("\"idle_s\":7"), std::string::npos) << text;
    EXPECT_EQ(text.front(), '{');
    EXPECT_EQ(text.substr(text.size() - 2), "}\n");
}

TEST(RelayReport, StatsTableAndJson) {
    RelayStats s;
    s.forwards = 2;
    s.started_total = 5;
    s.stopped_total = 2;
    s.failed_total = 1;
    s.timeouts[static_cast<size_t>(TimeoutReason::Idle)] = 1;
    s.totals[1].drops[static_cast<size_t>(DropReason::SendError)] = 4;
    PortPoolStats p;
    p.total_pairs = 10;
    p.free = 6;
    p.used = 2;
    p.quarantined = 2;
    s.pools.push_back(PoolInfo{ep("127.0.0.1"), p});
    s.sockets.open = 12;
    s.sockets.parked = 4;
    s.sockets.budget = 100;
    s.sockets.opened_total = 30;
    s.sockets.reused_total = 20;
    s.sockets.closed_for_room_total = 18;
    s.sockets.late_dropped_total = 7;
    const RtpWorker worker{1, 2, {35000, 39999}};
    const auto text = format_stats(s, worker, false);
    EXPECT_NE(text.find("worker 1 of 2, ports 35000-39999"), std::string::npos) << text;
    EXPECT_NE(text.find("forwards 2 (started 5, stopped 2, failed 1)"), std::string::npos) << text;
    EXPECT_NE(text.find("timeouts: idle 1"), std::string::npos) << text;
    EXPECT_NE(text.find("send_error 4"), std::string::npos) << text;
    EXPECT_NE(text.find("pairs 10 free 6 used 2 quarantined 2"), std::string::npos) << text;
    EXPECT_NE(text.find("sockets: open 12 parked 4 budget 100; opened 30 reused 20 closed for "
                        "room 18 late datagrams dropped 7\n"),
              std::string::npos)
        << text;
    const auto json = format_stats(s, worker, true);
    EXPECT_EQ(json.rfind("{\"worker\":1,\"workers\":2,\"ports\":\"35000-39999\",", 0), 0u) << json;
    EXPECT_NE(json.find("\"timeouts\":{\"idle\":1,"), std::string::npos) << json;
    EXPECT_NE(json.find("\"free\":6,\"used\":2,\"quarantined\":2"), std::string::npos) << json;
    EXPECT_NE(json.find("\"send_error\":4"), std::string::npos) << json;
    EXPECT_NE(json.find("\"sockets\":{\"open\":12,\"parked\":4,\"budget\":100,\"opened\":30,"
                        "\"reused\":20,\"closed_for_room\":18,\"late_dropped\":7}}\n"),
              std::string::npos)
        << json;
}

}  // namespace
}  // namespace sipmasq
