// sipmasqctl's streams and stats from several rtpd workers, merged from the
// answers rtpd's own formatter writes (rtpd/relay_report.cpp).
#include "ctl_merge.h"

#include <gtest/gtest.h>

namespace sipmasq {
namespace {

const char* const kHeader = "worker id       call\n";

TEST(CtlMerge, StreamTablesBecomeOneWithOneHeaderAndOneCount) {
    const std::vector<WorkerReply> replies = {
        {0, true, std::string(kHeader) + "0      1        a@x\n0      3        c@x\n2 streams\n"},
        {1, true, std::string(kHeader) + "1      2        b@x\n1 streams\n"},
    };
    EXPECT_EQ(merge_streams(replies, false),
              std::string(kHeader) +
                  "0      1        a@x\n0      3        c@x\n1      2        b@x\n3 streams\n");
}

TEST(CtlMerge, AWorkerThatIsDownIsNamed) {
    const std::vector<WorkerReply> replies = {
        {0, false, ""},
        {1, true, std::string(kHeader) + "0 streams\n"},
    };
    EXPECT_EQ(merge_streams(replies, false), std::string(kHeader) +
                                                 "0 streams\n"
                                                 "rtpd0 is not running\n");
    EXPECT_EQ(merge_streams({{0, false, ""}}, true),
              "{\"streams\":[],\"count\":0,\"workers\":1,\"down\":[0]}\n");
}

TEST(CtlMerge, StreamJsonListsEveryWorkersStreams) {
    const std::vector<WorkerReply> replies = {
        {0, true, "{\"streams\":[{\"worker\":0,\"id\":1}],\"count\":1}\n"},
        {1, true, "{\"streams\":[],\"count\":0}\n"},
        {2, true, "{\"streams\":[{\"worker\":2,\"id\":2},{\"worker\":2,\"id\":4}],\"count\":2}\n"},
    };
    EXPECT_EQ(merge_streams(replies, true),
              "{\"streams\":[{\"worker\":0,\"id\":1},{\"worker\":2,\"id\":2},{\"worker\":2,"
              "\"id\":4}],\"count\":3,\"workers\":3,\"down\":[]}\n");
}

TEST(CtlMerge, AnAnswerOfAnotherShapeCountsAsDown) {
    const std::vector<WorkerReply> replies = {{0, true, "not an rtpd command\n"},
                                              {1, true, "{\"streams\":[\"x\"]}"}};
    EXPECT_EQ(merge_streams(replies, true),
              "{\"streams\":[],\"count\":0,\"workers\":2,\"down\":[0,1]}\n");
    EXPECT_EQ(merge_streams(replies, false),
              "0 streams\nrtpd0 is not running\nrtpd1 is not running\n");
}

TEST(CtlMerge, StatsPerWorker) {
    const std::vector<WorkerReply> replies = {{0, true, "{\"worker\":0}\n"}, {1, false, ""}};
    EXPECT_EQ(merge_relay_stats(replies, true), "[{\"worker\":0},null]");
    EXPECT_EQ(merge_relay_stats({{0, true, "worker 0 of 2\n"}, {1, false, ""}}, false),
              "[rtpd0]\nworker 0 of 2\n\n[rtpd1]\nnot running\n");
    EXPECT_EQ(merge_relay_stats({{0, true, "forwards 1\n"}}, false), "[rtpd]\nforwards 1\n");
}

}  // namespace
}  // namespace sipmasq
