// Starts the real sipmasq (all three processes) for integration tests and
// reads its log. Stops only the processes it started, by pid.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sipmasq::test {

// A temporary directory removed (recursively) with the object.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

std::string build_root();
std::string source_root();
void write_file(const std::string& path, const std::string& text);
[[nodiscard]] std::string read_file(const std::string& path);

// A UDP port free on `addr` now (bound and released), even when `even`.
[[nodiscard]] uint16_t free_udp_port(const char* addr, bool even = false);

struct ProcStatus {
    std::vector<long> uid;  // real, effective, saved, fs
    std::vector<long> gid;
    std::string cap_eff, cap_prm, cap_bnd, cap_amb;
    int no_new_privs = -1;
    int seccomp = -1;
    pid_t ppid = -1;
};
[[nodiscard]] std::optional<ProcStatus> read_proc_status(pid_t pid);
[[nodiscard]] bool process_exists(pid_t pid);

// Runs a command to completion, capturing stdout+stderr; returns exit code.
int run_command(const std::vector<std::string>& argv, std::string& output,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

class Daemon {
  public:
    Daemon() = default;
    ~Daemon();  // SIGKILL to whatever this object started and still runs
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Starts `sipmasq -f -c config -d debug` (plus extra args) with stderr
    // to a log file in `dir`.
    [[nodiscard]] bool start(const std::string& config_path, const std::string& dir,
                             const std::vector<std::string>& extra = {});
    // The same behind a command prefix, e.g. {"ip", "netns", "exec", "ns"}
    // (which execs in place, so pid() is still the daemon's).
    [[nodiscard]] bool start_prefixed(const std::vector<std::string>& prefix,
                                      const std::string& config_path, const std::string& dir);
    [[nodiscard]] pid_t pid() const { return pid_; }

    // Waits until the log has a line matching `pattern` (ECMAScript regex)
    // after byte offset `from`; returns the first capture group (or the
    // whole match). Returns nullopt on timeout.
    std::optional<std::string> wait_for_log(const std::string& pattern,
                                            std::chrono::milliseconds timeout, size_t from = 0);
    [[nodiscard]] std::string log() const;
    [[nodiscard]] size_t log_size() const;

    // The pid in the newest "<child> ready (pid N)" line after `from`.
    std::optional<pid_t> wait_ready(const std::string& child, std::chrono::milliseconds timeout,
                                    size_t from = 0);

    // Sends `sig` and waits for the exit; returns the wait status.
    std::optional<int> stop(int sig, std::chrono::milliseconds timeout);
    // Waits for the daemon to exit by itself.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  private:
    pid_t pid_ = -1;
    std::string log_path_;
    std::vector<pid_t> children_seen_;
};

// A configuration for the daemon on loopback: inside 127.0.0.1, outside
// 127.0.0.2, with a jail, state and pid file under `dir`. `extra` is
// appended as more `key = value` lines.
[[nodiscard]] std::string loopback_config(const TempDir& dir, uint16_t sip_port,
                                          const std::string& extra = "");

}  // namespace sipmasq::test

namespace sipmasq::test {

// A background process (argv[0] is looked up in PATH) with stdout and
// stderr to `log_path`; -1 on failure.
[[nodiscard]] pid_t spawn_process(const std::vector<std::string>& argv,
                                  const std::string& log_path);
// Waits for a process spawned above; its wait status, or nullopt on timeout
// (the process is then killed by pid and reaped).
std::optional<int> wait_process(pid_t pid, std::chrono::milliseconds timeout);

// A test with the real daemon running on loopback (loopback_config) and
// both children ready; skips without root.
class RunningDaemonTest : public ::testing::Test {
  protected:
    void SetUp() override;
    // sipmasqctl with `args` against this daemon's control socket.
    int ctl(const std::vector<std::string>& args, std::string& out);

    TempDir dir_;
    std::string config_path_;
    uint16_t sip_port_ = 0;
    Daemon daemon_;
    std::optional<pid_t> sipd_, rtpd_;
};

}  // namespace sipmasq::test
