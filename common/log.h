// Logging for all three processes. The parent writes to stderr (foreground)
// or syslog; the children install a sink that forwards each line to the
// parent as a LOG message, so a chrooted child needs no /dev/log.
#pragma once

#include <cstdint>
#include <string_view>

namespace sipmasq {

// Values are syslog priorities, so they travel unchanged in LOG messages.
enum class LogLevel : uint8_t { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

// Receives one formatted line without trailing newline.
using LogSink = void (*)(LogLevel level, std::string_view line) noexcept;

void log_set_sink(LogSink sink) noexcept;
void log_set_max_level(LogLevel level) noexcept;
[[nodiscard]] LogLevel log_max_level() noexcept;
[[nodiscard]] bool log_enabled(LogLevel level) noexcept;

// A short name prefixed by the stderr sink ("sipmasq", "sipd", "rtpd").
void log_set_ident(const char* ident) noexcept;
[[nodiscard]] const char* log_ident() noexcept;

void log_write(LogLevel level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
// A call record (call start, call end) at notice level: the children send
// these to the parent marked as records, which have a budget of their own.
using LogRecordSink = void (*)(std::string_view line) noexcept;
void log_set_record_sink(LogRecordSink sink) noexcept;
void log_record(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
void log_line(LogLevel level, std::string_view line) noexcept;

// Sinks the parent (and tools) use.
void log_sink_stderr(LogLevel level, std::string_view line) noexcept;
void log_sink_syslog(LogLevel level, std::string_view line) noexcept;
// stderr read by journald (JOURNAL_STREAM set): "<priority>" instead of a
// time stamp, so the journal keeps each line's level.
void log_sink_journal(LogLevel level, std::string_view line) noexcept;

// While a StderrBatch lives, the stderr and journal sinks gather their
// lines and write them with one write() when the outermost batch ends (or
// when its fixed buffer fills); without one, each line is one write() as
// it comes. syslog takes its lines one by one either way. The parent holds
// one across each wake-up that relays a child's lines.
class StderrBatch {
  public:
    StderrBatch() noexcept;
    ~StderrBatch();
    StderrBatch(const StderrBatch&) = delete;
    StderrBatch& operator=(const StderrBatch&) = delete;
};

// Maps "error".."debug" or "0".."7" to a level (for -d).
[[nodiscard]] bool log_level_from_string(std::string_view text, LogLevel& out) noexcept;
[[nodiscard]] const char* log_level_name(LogLevel level) noexcept;

}  // namespace sipmasq

#define log_error(...) ::sipmasq::log_write(::sipmasq::LogLevel::Error, __VA_ARGS__)
#define log_warning(...) ::sipmasq::log_write(::sipmasq::LogLevel::Warning, __VA_ARGS__)
#define log_notice(...) ::sipmasq::log_write(::sipmasq::LogLevel::Notice, __VA_ARGS__)
#define log_info(...) ::sipmasq::log_write(::sipmasq::LogLevel::Info, __VA_ARGS__)
#define log_debug(...)                                                     \
    do {                                                                   \
        if (::sipmasq::log_enabled(::sipmasq::LogLevel::Debug))            \
            ::sipmasq::log_write(::sipmasq::LogLevel::Debug, __VA_ARGS__); \
    } while (0)
