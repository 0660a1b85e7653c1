// Work put off to the end of the current pass of a libevent loop: arm()
// makes an event active, and libevent appends it to the back of the active
// queue, so it runs after every callback of this pass and before the loop
// waits again. What a pass produced (replies, log lines) is then sent with
// one system call, and never held longer than the pass that produced it.
#pragma once

#include <event2/event.h>

#include "event_ptr.h"

namespace sipmasq {

class EndOfPass {
  public:
    using Work = void (*)(void* arg) noexcept;

    // Runs `work(arg)` at the end of a pass in which arm() was called.
    EndOfPass(event_base* base, Work work, void* arg) noexcept
        : event_(event_new(base, -1, 0, &on_event, this)), work_(work), arg_(arg) {}
    // The event points at this object: it stays where it was made.
    EndOfPass(const EndOfPass&) = delete;
    EndOfPass& operator=(const EndOfPass&) = delete;

    // False when libevent could not make the event; arm() then does nothing.
    [[nodiscard]] bool valid() const noexcept { return event_ != nullptr; }
    // Once a pass however often it is called.
    void arm() noexcept {
        if (armed_ || !event_) return;
        armed_ = true;
        event_active(event_.get(), EV_TIMEOUT, 0);
    }
    [[nodiscard]] bool armed() const noexcept { return armed_; }
    // A loop that ended before the work ran: the owner does it itself and
    // the next arm() is honoured again.
    void disarm() noexcept {
        if (!armed_) return;
        armed_ = false;
        if (event_) event_del(event_.get());
    }

  private:
    static void on_event(evutil_socket_t /*fd*/, short /*what*/, void* arg) noexcept {
        auto* self = static_cast<EndOfPass*>(arg);
        self->armed_ = false;
        self->work_(self->arg_);
    }

    EventPtr event_;
    Work work_;
    void* arg_;
    bool armed_ = false;
};

}  // namespace sipmasq
