#include "log.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace sipmasq {
namespace {

LogSink g_sink = log_sink_stderr;
LogLevel g_max_level = LogLevel::Info;
const char* g_ident = "sipmasq";

// Control characters would let a logged peer-supplied string forge lines.
void escape_controls(char* text) noexcept {
    for (char* p = text; *p != '\0'; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20 || c == 0x7f) *p = '?';
    }
}

}  // namespace

void log_set_sink(LogSink sink) noexcept {
    g_sink = sink != nullptr ? sink : log_sink_stderr;
}
void log_set_max_level(LogLevel level) noexcept {
    g_max_level = level;
}
LogLevel log_max_level() noexcept {
    return g_max_level;
}
bool log_enabled(LogLevel level) noexcept {
    return level <= g_max_level;
}
void log_set_ident(const char* ident) noexcept {
    g_ident = ident;
}
const char* log_ident() noexcept {
    return g_ident;
}

void log_line(LogLevel level, std::string_view line) noexcept {
    if (!log_enabled(level)) return;
    g_sink(level, line);
}

namespace {

LogRecordSink g_record_sink = nullptr;

// One formatted line with control characters escaped; false when the
// format failed.
__attribute__((format(printf, 2, 0))) bool format_line(char (&buf)[1024], const char* fmt,
                                                       va_list ap) noexcept {
    const int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) return false;
    escape_controls(buf);
    return true;
}

}  // namespace

void log_write(LogLevel level, const char* fmt, ...) noexcept {
    if (!log_enabled(level)) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    const bool ok = format_line(buf, fmt, ap);
    va_end(ap);
    if (ok) g_sink(level, std::string_view(buf, std::strlen(buf)));
}

void log_set_record_sink(LogRecordSink sink) noexcept {
    g_record_sink = sink;
}

void log_record(const char* fmt, ...) noexcept {
    if (!log_enabled(LogLevel::Notice)) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    const bool ok = format_line(buf, fmt, ap);
    va_end(ap);
    if (!ok) return;
    const std::string_view line(buf, std::strlen(buf));
    if (g_record_sink != nullptr)
        g_record_sink(line);
    else
        g_sink(LogLevel::Notice, line);
}

namespace {

// What the stderr sinks gathered during a StderrBatch.
char g_stderr_batch[65536];
size_t g_stderr_batched = 0;
int g_stderr_batch_depth = 0;
// getpid() once a batch rather than once a line (no fork happens inside one).
pid_t g_stderr_batch_pid = 0;

// The whole of `text` to stderr unless it fails (a closed or full stderr
// loses the line, as fprintf did).
void write_stderr(const char* text, size_t len) noexcept {
    while (len > 0) {
        const ssize_t n = ::write(STDERR_FILENO, text, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        len -= static_cast<size_t>(n);
    }
}

void flush_stderr_batch() noexcept {
    write_stderr(g_stderr_batch, g_stderr_batched);
    g_stderr_batched = 0;
}

// One formatted line (`n` as snprintf returned it for a buffer of `cap`):
// gathered or written. A line cut by the buffer still ends in a newline.
void emit_stderr(char* line, int n, size_t cap) noexcept {
    if (n <= 0) return;
    size_t len = static_cast<size_t>(n);
    if (len >= cap) {
        len = cap - 1;
        line[len - 1] = '\n';
    }
    if (g_stderr_batch_depth == 0) {
        write_stderr(line, len);
        return;
    }
    if (g_stderr_batched + len > sizeof g_stderr_batch) flush_stderr_batch();
    std::memcpy(g_stderr_batch + g_stderr_batched, line, len);
    g_stderr_batched += len;
}

// "YYYY-MM-DD HH:MM:SS" of `sec`, made again only when the second changes.
const char* stamp_of(time_t sec) noexcept {
    static time_t made_for = -1;
    static char stamp[32];
    if (sec != made_for) {
        tm parts{};
        localtime_r(&sec, &parts);
        if (strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts) == 0) stamp[0] = '\0';
        made_for = sec;
    }
    return stamp;
}

}  // namespace

StderrBatch::StderrBatch() noexcept {
    if (g_stderr_batch_depth++ == 0) g_stderr_batch_pid = getpid();
}

StderrBatch::~StderrBatch() {
    if (--g_stderr_batch_depth == 0 && g_stderr_batched > 0) flush_stderr_batch();
}

void log_sink_stderr(LogLevel level, std::string_view line) noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    char out[2048];
    const int n = std::snprintf(
        out, sizeof out, "%s.%03ld %s[%d] %s: %.*s\n", stamp_of(ts.tv_sec), ts.tv_nsec / 1000000,
        g_ident, static_cast<int>(g_stderr_batch_depth > 0 ? g_stderr_batch_pid : getpid()),
        log_level_name(level), static_cast<int>(line.size()), line.data());
    emit_stderr(out, n, sizeof out);
}

void log_sink_journal(LogLevel level, std::string_view line) noexcept {
    char out[2048];
    const int n = std::snprintf(out, sizeof out, "<%d>%s: %.*s\n", static_cast<int>(level),
                                log_level_name(level), static_cast<int>(line.size()), line.data());
    emit_stderr(out, n, sizeof out);
}

void log_sink_syslog(LogLevel level, std::string_view line) noexcept {
    syslog(static_cast<int>(level), "%.*s", static_cast<int>(line.size()), line.data());
}

bool log_level_from_string(std::string_view text, LogLevel& out) noexcept {
    static constexpr struct {
        const char* name;
        LogLevel level;
    } kNames[] = {{"error", LogLevel::Error},
                  {"warning", LogLevel::Warning},
                  {"notice", LogLevel::Notice},
                  {"info", LogLevel::Info},
                  {"debug", LogLevel::Debug}};
    for (const auto& entry : kNames) {
        if (text == entry.name) {
            out = entry.level;
            return true;
        }
    }
    if (text.size() == 1 && text[0] >= '3' && text[0] <= '7') {
        out = static_cast<LogLevel>(text[0] - '0');
        return true;
    }
    return false;
}

const char* log_level_name(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::Error:
            return "error";
        case LogLevel::Warning:
            return "warning";
        case LogLevel::Notice:
            return "notice";
        case LogLevel::Info:
            return "info";
        case LogLevel::Debug:
            return "debug";
    }
    return "?";
}

}  // namespace sipmasq
