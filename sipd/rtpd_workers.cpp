#include "rtpd_workers.h"

#include "log.h"

namespace sipmasq {

uint32_t ForwardPlacement::choose(const std::function<bool(uint32_t worker)>& up) {
    const uint32_t n = workers();
    if (n == 0) return 0;
    uint32_t best = n;
    bool best_up = false;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t w = (next_ + k) % n;
        const bool is_up = up(w);
        // Up beats down; then the fewer forwards; the first seen on a tie.
        if (best == n || (is_up && !best_up) || (is_up == best_up && load_[w] < load_[best])) {
            best = w;
            best_up = is_up;
        }
    }
    next_ = (best + 1) % n;
    return best;
}

void ForwardPlacement::hold(uint32_t id, uint32_t worker) {
    if (worker >= workers()) return;
    const auto [it, added] = owner_.emplace(id, worker);
    if (!added) {
        if (it->second == worker) return;
        --load_[it->second];  // never expected: a forward moved to another worker
        it->second = worker;
    }
    ++load_[worker];
}

void ForwardPlacement::release(uint32_t id) {
    const auto it = owner_.find(id);
    if (it == owner_.end()) return;
    --load_[it->second];
    owner_.erase(it);
}

uint32_t ForwardPlacement::worker_of(uint32_t id) const {
    const auto it = owner_.find(id);
    return it == owner_.end() ? workers() : it->second;
}

bool RtpdWorkers::set_channel(uint32_t worker, uint32_t workers, UniqueFd fd) {
    if (links_.empty()) {
        for (uint32_t w = 0; w < workers; ++w) {
            auto link = std::make_unique<RtpdLink>(base_);
            link->on_timeout([this](uint32_t id, const char* reason) {
                placement_.release(id);
                if (on_timeout_) on_timeout_(id, reason);
            });
            link->on_entry([this, w](uint32_t id, const MediaStart& listed) {
                MediaStart entry = listed;
                entry.worker = w;
                placement_.hold(id, w);
                if (on_entry_) on_entry_(id, entry);
            });
            link->on_list_end([this, w](uint32_t count) {
                if (on_list_end_) on_list_end_(w, count);
            });
            links_.push_back(std::move(link));
        }
        placement_ = ForwardPlacement(workers);
        log_info("%u rtpd worker%s", workers, workers == 1 ? "" : "s");
    }
    if (workers != links_.size() || worker >= links_.size()) {
        log_error("a channel to rtpd worker %u of %u, but sipd has %zu workers; refused", worker,
                  workers, links_.size());
        return false;
    }
    links_[worker]->set_channel(std::move(fd));
    return true;
}

bool RtpdWorkers::request_list(uint32_t worker) {
    return worker < links_.size() && links_[worker]->request_list();
}

void RtpdWorkers::restart_forwards(uint32_t worker, const std::vector<MediaStart>& forwards) {
    size_t count = 0;
    for (const MediaStart& m : forwards) {
        if (m.worker != worker) continue;
        ++count;
        const uint32_t id = m.id;
        const uint16_t in = m.inside_port, out = m.outside_port;
        start(m, [id, in, out](const MediaResult& r) {
            if (!r.ok)
                log_warning("forward %u not restarted: %s", id, r.error.c_str());
            else if (r.inside_local.port() != in || r.outside_local.port() != out)
                log_warning("forward %u restarted on other ports", id);
        });
    }
    if (count > 0)
        log_notice("rtpd worker %u is new: starting its %zu forwards again", worker, count);
}

bool RtpdWorkers::available() const {
    for (const auto& link : links_)
        if (link->available()) return true;
    return false;
}

uint32_t RtpdWorkers::place() {
    return placement_.choose([this](uint32_t w) { return links_[w]->available(); });
}

void RtpdWorkers::start(const MediaStart& request, Done done) {
    if (request.worker >= links_.size()) {
        MediaResult fail;
        fail.error = "rtpd unavailable";
        done(fail);
        return;
    }
    placement_.hold(request.id, request.worker);
    links_[request.worker]->start(request, std::move(done));
}

void RtpdWorkers::stop(uint32_t id) {
    const uint32_t worker = placement_.worker_of(id);
    placement_.release(id);
    if (worker < links_.size()) links_[worker]->stop(id);
}

}  // namespace sipmasq
