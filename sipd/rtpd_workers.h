// The relay as sipd sees it: one RtpdLink per rtpd worker, each over its own
// channel. A new call is placed on the least loaded worker that is up (ties
// go round the workers); every later request for one of its forwards goes
// to the worker that holds it, which sipd keeps per forward (and SipProxy
// per call, as MediaStart::worker). A worker that restarts gets its own
// forwards again; the others never notice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "media_link.h"
#include "rtpd_link.h"
#include "unique_fd.h"

namespace sipmasq {

// Which worker holds which forward, and how many each holds: the part of
// the placement that needs no channel (tested alone).
class ForwardPlacement {
  public:
    explicit ForwardPlacement(uint32_t workers) : load_(workers, 0) {}

    [[nodiscard]] uint32_t workers() const noexcept { return static_cast<uint32_t>(load_.size()); }
    // The least loaded worker for which `up` holds, the next one after the
    // last choice on a tie; with none up, the least loaded of all (its start
    // then fails as for a dead relay).
    [[nodiscard]] uint32_t choose(const std::function<bool(uint32_t worker)>& up);
    // Records that `worker` holds forward `id` (again: no change).
    void hold(uint32_t id, uint32_t worker);
    void release(uint32_t id);
    // The worker that holds `id`, or workers() when none does.
    [[nodiscard]] uint32_t worker_of(uint32_t id) const;
    [[nodiscard]] uint32_t load(uint32_t worker) const { return load_.at(worker); }

  private:
    std::vector<uint32_t> load_;
    std::unordered_map<uint32_t, uint32_t> owner_;
    uint32_t next_ = 0;  // where a tie is broken next
};

class RtpdWorkers : public MediaLink {
  public:
    using TimeoutHandler = RtpdLink::TimeoutHandler;
    // A forward a worker listed (LIST_FWD), with entry.worker set.
    using EntryHandler = RtpdLink::EntryHandler;
    using ListEndHandler = std::function<void(uint32_t worker, uint32_t count)>;

    explicit RtpdWorkers(event_base* base) : base_(base) {}

    [[nodiscard]] uint32_t workers() const noexcept { return static_cast<uint32_t>(links_.size()); }
    // Takes worker `worker`'s (new) channel end from PEER_CHANNEL, which
    // also says how many workers there are (fixed for sipd's life: a
    // different count is refused). False when refused.
    [[nodiscard]] bool set_channel(uint32_t worker, uint32_t workers, UniqueFd fd);
    void on_timeout(TimeoutHandler h) { on_timeout_ = std::move(h); }
    void on_entry(EntryHandler h) { on_entry_ = std::move(h); }
    void on_list_end(ListEndHandler h) { on_list_end_ = std::move(h); }
    // LIST_FWD to one worker.
    [[nodiscard]] bool request_list(uint32_t worker);
    // A restarted worker: START_FWD again for each of `forwards` it held.
    void restart_forwards(uint32_t worker, const std::vector<MediaStart>& forwards);

    [[nodiscard]] bool available() const override;
    [[nodiscard]] uint32_t place() override;
    void start(const MediaStart& request, Done done) override;
    void stop(uint32_t id) override;

    [[nodiscard]] const ForwardPlacement& placement() const { return placement_; }

  private:
    event_base* base_;
    std::vector<std::unique_ptr<RtpdLink>> links_;
    ForwardPlacement placement_{0};
    TimeoutHandler on_timeout_;
    EntryHandler on_entry_;
    ListEndHandler on_list_end_;
};

}  // namespace sipmasq
