// The active forwards by their 32-bit id (sipd's peer id). The map is
// reserved for the configured maximum up front so inserting never rehashes;
// the hot path never looks here (each socket event points at its record).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "forward.h"

namespace sipmasq {

class ForwardTable {
  public:
    explicit ForwardTable(uint32_t capacity);

    [[nodiscard]] Forward* find(uint32_t id) noexcept;
    [[nodiscard]] const Forward* find(uint32_t id) const noexcept;
    [[nodiscard]] bool full() const noexcept { return map_.size() >= capacity_; }
    [[nodiscard]] size_t size() const noexcept { return map_.size(); }
    [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }

    // Nullptr when full or the id exists; otherwise owns it at a stable address.
    Forward* insert(std::unique_ptr<Forward> f);
    // Hands the forward back to the caller (who releases its ports).
    std::unique_ptr<Forward> remove(uint32_t id);

    template <typename Fn>
    void for_each(Fn&& fn) const {
        for (const auto& [id, f] : map_) fn(*f);
    }

  private:
    uint32_t capacity_;
    std::unordered_map<uint32_t, std::unique_ptr<Forward>> map_;
};

}  // namespace sipmasq
