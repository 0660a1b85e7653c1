#include "forward_table.h"

namespace sipmasq {

const char* drop_reason_name(DropReason r) noexcept {
    switch (r) {
        case DropReason::WrongSource:
            return "wrong_source";
        case DropReason::NoPeer:
            return "no_peer";
        case DropReason::Truncated:
            return "truncated";
        case DropReason::SendError:
            return "send_error";
        case DropReason::Count:
            break;
    }
    return "unknown";
}

ForwardTable::ForwardTable(uint32_t capacity) : capacity_(capacity) {
    map_.reserve(capacity);
}

Forward* ForwardTable::find(uint32_t id) noexcept {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : it->second.get();
}

const Forward* ForwardTable::find(uint32_t id) const noexcept {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : it->second.get();
}

Forward* ForwardTable::insert(std::unique_ptr<Forward> f) {
    if (full() || !f) return nullptr;
    auto [it, inserted] = map_.emplace(f->id, std::move(f));
    return inserted ? it->second.get() : nullptr;
}

std::unique_ptr<Forward> ForwardTable::remove(uint32_t id) {
    auto it = map_.find(id);
    if (it == map_.end()) return nullptr;
    std::unique_ptr<Forward> f = std::move(it->second);
    map_.erase(it);
    return f;
}

}  // namespace sipmasq
