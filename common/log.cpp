#include "log.h"

#include <syslog.h>
#include <time.h>
#include <unistd.h>

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

void log_sink_stderr(LogLevel level, std::string_view line) noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm parts{};
    localtime_r(&ts.tv_sec, &parts);
    char stamp[32];
    (void)strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &parts);
    (void)std::fprintf(stderr, "%s.%03ld %s[%d] %s: %.*s\n", stamp, ts.tv_nsec / 1000000, g_ident,
                       static_cast<int>(getpid()), log_level_name(level),
                       static_cast<int>(line.size()), line.data());
}

void log_sink_journal(LogLevel level, std::string_view line) noexcept {
    (void)std::fprintf(stderr, "<%d>%s: %.*s\n", static_cast<int>(level), log_level_name(level),
                       static_cast<int>(line.size()), line.data());
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
