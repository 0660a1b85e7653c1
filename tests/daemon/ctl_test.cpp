// sipmasqctl against the real daemon: what it shows, and that the control
// socket is root's alone and survives malformed requests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "daemon_harness.h"
#include "terminal_escape.h"
#include "udp_peer.h"

namespace sipmasq::test {
namespace {

using namespace std::chrono_literals;

// The escaping of sipmasqctl's tables, byte by byte.
TEST(TerminalEscapeTest, PlainTablesAreUnchanged) {
    const std::string table =
        "AOR CONTACT SOURCE MODE EXPIRES\nalice@203.0.113.1 <sip:alice@192.0.2.10:5060>\t"
        "192.0.2.10:5060 registrar 600s\n";
    EXPECT_EQ(escape_for_terminal(table), table);
}

TEST(TerminalEscapeTest, ControlBytesAreShownAsHex) {
    EXPECT_EQ(escape_for_terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
    EXPECT_EQ(escape_for_terminal("\x1b]0;owned\x07"), "\\x1b]0;owned\\x07");
    EXPECT_EQ(escape_for_terminal("x\ry"), "x\\x0dy") << "a carriage return hides a line";
    EXPECT_EQ(escape_for_terminal("\x7f\x08"), "\\x7f\\x08");
    EXPECT_EQ(escape_for_terminal(std::string_view("a\0b", 3)), "a\\x00b");
    // A backslash is escaped too, so "\x1b" in the output is never ambiguous.
    EXPECT_EQ(escape_for_terminal("a\\x1b"), "a\\\\x1b");
}

TEST(TerminalEscapeTest, PrintableUtf8StaysAndEverythingElseIsEscaped) {
    EXPECT_EQ(escape_for_terminal("M\xc3\xbcller \xe6\x97\xa5 \xf0\x9f\x93\x9e"),
              "M\xc3\xbcller \xe6\x97\xa5 \xf0\x9f\x93\x9e");
    // C1 CSI, raw and as UTF-8: some terminals take it as ESC [.
    EXPECT_EQ(escape_for_terminal("\x9b[2J"), "\\x9b[2J");
    EXPECT_EQ(escape_for_terminal("\xc2\x9b[2J"), "\\xc2\\x9b[2J");
    // A right-to-left override would reorder what the admin reads.
    EXPECT_EQ(escape_for_terminal("a\xe2\x80\xae-b"), "a\\xe2\\x80\\xae-b");
    // Invalid UTF-8: overlong, surrogate, above U+10FFFF, truncated.
    EXPECT_EQ(escape_for_terminal("\xc0\xaf"), "\\xc0\\xaf");
    EXPECT_EQ(escape_for_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(escape_for_terminal("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
    EXPECT_EQ(escape_for_terminal("ok\xe2\x82"), "ok\\xe2\\x82");
    // A lead byte does not swallow the control byte after it.
    EXPECT_EQ(escape_for_terminal("\xe2\x1b[m"), "\\xe2\\x1b[m");
}

TEST(TerminalEscapeTest, NoPairOfBytesGetsAControlCharacterThrough) {
    // Every pair, so each lead byte meets each continuation byte: the output
    // is printable ASCII (or \n, \t), or the pair itself when it is the
    // UTF-8 of a printable character (U+00A0 to U+07FF).
    for (unsigned a = 0; a < 256; ++a) {
        for (unsigned b = 0; b < 256; ++b) {
            const char in[2] = {static_cast<char>(a), static_cast<char>(b)};
            const std::string out = escape_for_terminal(std::string_view(in, 2));
            bool ascii = true;
            for (const char ch : out) {
                const auto c = static_cast<unsigned char>(ch);
                if (c >= 0x80) ascii = false;
                if (c < 0x80) {
                    ASSERT_TRUE(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
                        << std::hex << a << " " << b;
                }
            }
            if (!ascii) {
                ASSERT_EQ(out, std::string(in, 2)) << std::hex << a << " " << b;
                ASSERT_TRUE(a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf &&
                            !(a == 0xc2 && b <= 0x9f))
                    << std::hex << a << " " << b;
            }
        }
    }
}

class CtlTest : public RunningDaemonTest {
  protected:
    // A raw request on the socket, for what sipmasqctl would never send.
    std::string raw_request(const std::string& bytes) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        const std::string path = dir_.file("control");
        std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
            ::close(fd);
            return "connect failed";
        }
        (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string reply;
        char buf[1024];
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return reply;
    }
};

TEST_F(CtlTest, StatusNamesEachChildWithPidAndRestarts) {
    std::string out;
    ASSERT_EQ(ctl({"status"}, out), 0) << out;
    EXPECT_TRUE(std::regex_search(
        out, std::regex("sipmasq 0\\.[0-9.]+, pid " + std::to_string(daemon_.pid()))))
        << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("sipd +" + std::to_string(*sipd_) + " +ready +0")))
        << out;
    EXPECT_TRUE(
        std::regex_search(out, std::regex("rtpd +" + std::to_string(*rtpd_) + " +ready +0")))
        << out;

    const size_t mark = daemon_.log_size();
    ASSERT_EQ(::kill(*rtpd_, SIGKILL), 0);
    const auto again = daemon_.wait_ready("rtpd", 10s, mark);
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(ctl({"-j", "status"}, out), 0) << out;
    // One worker (rtp_workers = 1): the whole relay range.
    EXPECT_TRUE(
        std::regex_search(out, std::regex("\\{\"name\":\"rtpd\",\"pid\":" + std::to_string(*again) +
                                          ",\"ready\":true,\"restarts\":1,\"worker\":0,"
                                          "\"ports\":\"[0-9]+-[0-9]+\"\\}")))
        << out;
    EXPECT_NE(out.find("\"version\":\""), std::string::npos) << out;
}

TEST_F(CtlTest, ReloadReportsWhatChangedAndRefusesABrokenFile) {
    std::string out;
    ASSERT_EQ(ctl({"reload"}, out), 0) << out;
    EXPECT_NE(out.find("configuration unchanged"), std::string::npos) << out;
    write_file(config_path_, read_file(config_path_) + "rtp_timeout = 77\n");
    ASSERT_EQ(ctl({"reload"}, out), 0) << out;
    EXPECT_NE(out.find("rtp_timeout"), std::string::npos) << out;
    write_file(config_path_, read_file(config_path_) + "rtp_timeout = soon\n");
    ASSERT_EQ(ctl({"-j", "reload"}, out), 0) << out;
    EXPECT_NE(out.find("reload refused"), std::string::npos) << out;
}

TEST_F(CtlTest, StatsCombineTheParentAndBothChildren) {
    std::string out;
    ASSERT_EQ(ctl({"-j", "stats"}, out), 0) << out;
    EXPECT_EQ(out.rfind("{\"parent\":{", 0), 0u) << out;
    EXPECT_NE(out.find(",\"sipd\":"), std::string::npos) << out;
    EXPECT_NE(out.find(",\"rtpd\":"), std::string::npos) << out;
}

TEST_F(CtlTest, MalformedRequestsGetAnErrorAndTheDaemonCarriesOn) {
    EXPECT_EQ(raw_request("bogus\n").rfind("ERR unknown request", 0), 0u);
    EXPECT_EQ(raw_request(std::string(1000, 'x')).rfind("ERR request too long", 0), 0u);
    EXPECT_EQ(raw_request(std::string("status\0json\n", 12)).rfind("ERR", 0), 0u);
    EXPECT_EQ(raw_request("status\n").rfind("OK\n", 0), 0u);
    std::string out;
    EXPECT_EQ(ctl({"nonsense"}, out), 2) << out;
    EXPECT_TRUE(process_exists(daemon_.pid()));
    EXPECT_TRUE(process_exists(*sipd_));
}

TEST_F(CtlTest, RegistrationsCallsAndStreamsShowWhatSipmasqIsDoing) {
    // alice registers from inside (127.0.0.1) with sipmasq as registrar:
    // her AOR is on sipmasq's outside address, 127.0.0.2.
    UdpPeer alice("127.0.0.1");
    const std::string contact = "<sip:alice@127.0.0.1:" + std::to_string(alice.port) + ">";
    const std::string via = "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(alice.port);
    alice.send_to("127.0.0.1", sip_port_,
                  with_length("REGISTER sip:127.0.0.2 SIP/2.0\r\n" + via +
                                  ";branch=z9hG4bKctl1;rport\r\n"
                                  "From: <sip:alice@127.0.0.2>;tag=a1\r\n"
                                  "To: <sip:alice@127.0.0.2>\r\n"
                                  "Call-ID: reg-ctl-1@127.0.0.1\r\n"
                                  "CSeq: 1 REGISTER\r\n"
                                  "Contact: " +
                                  contact +
                                  "\r\n"
                                  "Expires: 600\r\nMax-Forwards: 70\r\n",
                              ""));
    ASSERT_NE(alice.receive("SIP/2.0 200"), "") << daemon_.log();

    std::string out;
    ASSERT_EQ(ctl({"registrations"}, out), 0) << out;
    EXPECT_NE(out.find("alice@127.0.0.2"), std::string::npos) << out;
    EXPECT_NE(out.find("127.0.0.1:" + std::to_string(alice.port)), std::string::npos) << out;
    ASSERT_EQ(ctl({"-j", "registrations"}, out), 0) << out;
    EXPECT_NE(out.find("\"aor\":\"alice@127.0.0.2\""), std::string::npos) << out;

    // bob, outside on 127.0.0.3, calls her public AOR with an SDP offer.
    UdpPeer bob("127.0.0.3");
    const std::string sdp =
        "v=0\r\no=bob 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n"
        "m=audio 46000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    bob.send_to("127.0.0.2", sip_port_,
                with_length("INVITE sip:alice@127.0.0.2 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 127.0.0.3:" +
                                std::to_string(bob.port) +
                                ";branch=z9hG4bKctl2;rport\r\n"
                                "From: <sip:bob@127.0.0.3>;tag=b1\r\n"
                                "To: <sip:alice@127.0.0.2>\r\n"
                                "Call-ID: call-ctl-1@127.0.0.3\r\n"
                                "CSeq: 1 INVITE\r\n"
                                "Contact: <sip:bob@127.0.0.3:" +
                                std::to_string(bob.port) +
                                ">\r\n"
                                "Max-Forwards: 70\r\nContent-Type: application/sdp\r\n",
                            sdp));
    const std::string invite = alice.receive("INVITE ");
    ASSERT_NE(invite, "") << daemon_.log();
    // What alice got points at the relay on the inside, not at bob.
    EXPECT_EQ(invite.find("c=IN IP4 127.0.0.3"), std::string::npos) << invite;
    EXPECT_NE(invite.find("c=IN IP4 127.0.0.1"), std::string::npos) << invite;

    ASSERT_EQ(ctl({"calls"}, out), 0) << out;
    EXPECT_NE(out.find("call-ctl-1@127.0.0.3"), std::string::npos) << out;
    ASSERT_EQ(ctl({"streams"}, out), 0) << out;
    EXPECT_NE(out.find("127.0.0.3:46000"), std::string::npos) << out;
    ASSERT_EQ(ctl({"-j", "streams"}, out), 0) << out;
    EXPECT_NE(out.find("call-ctl-1@127.0.0.3"), std::string::npos) << out;
    ASSERT_EQ(ctl({"stats"}, out), 0) << out;
    EXPECT_NE(out.find("INVITE"), std::string::npos) << out;
}

TEST_F(CtlTest, ARegistrationCannotPaintTheAdminsTerminal) {
    // A user name with an escape sequence that would clear the screen.
    UdpPeer mallory("127.0.0.1");
    const std::string user = "ev\x1b[2J\x1b]0;x\x07il";
    mallory.send_to("127.0.0.1", sip_port_,
                    with_length("REGISTER sip:127.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                                    std::to_string(mallory.port) +
                                    ";branch=z9hG4bKctlesc;rport\r\n"
                                    "From: <sip:" +
                                    user +
                                    "@127.0.0.2>;tag=m1\r\n"
                                    "To: <sip:" +
                                    user +
                                    "@127.0.0.2>\r\n"
                                    "Call-ID: reg-ctl-esc@127.0.0.1\r\n"
                                    "CSeq: 1 REGISTER\r\n"
                                    "Contact: <sip:" +
                                    user + "@127.0.0.1:" + std::to_string(mallory.port) +
                                    ">\r\nExpires: 600\r\nMax-Forwards: 70\r\n",
                                ""));
    ASSERT_NE(mallory.receive("SIP/2.0 200"), "") << daemon_.log();

    std::string out;
    ASSERT_EQ(ctl({"registrations"}, out), 0) << out;
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_EQ(out.find('\x07'), std::string::npos) << out;
    EXPECT_NE(out.find("ev\\x1b[2J\\x1b]0;x\\x07il@127.0.0.2"), std::string::npos) << out;
    // JSON is escaped by sipd, for programs.
    ASSERT_EQ(ctl({"-j", "registrations"}, out), 0) << out;
    EXPECT_NE(out.find("ev\\u001b[2J"), std::string::npos) << out;
}

TEST_F(CtlTest, OnlyRootMayUseTheControlSocket) {
    struct stat st {};
    ASSERT_EQ(::stat(dir_.file("control").c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_uid, 0u);

    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) _exit(10);
        std::string out;
        const int rc = ctl({"status"}, out);
        _exit(rc == 1 && out.find("only root may control sipmasq") != std::string::npos ? 0 : 11);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace sipmasq::test
