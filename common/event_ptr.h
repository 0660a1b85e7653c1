// Owners for libevent objects, so no event or base outlives its scope.
#pragma once

#include <event2/event.h>

#include <memory>

namespace sipmasq {

struct EventBaseDeleter {
    void operator()(event_base* base) const noexcept { event_base_free(base); }
};
struct EventDeleter {
    void operator()(event* ev) const noexcept { event_free(ev); }
};
using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;

}  // namespace sipmasq
