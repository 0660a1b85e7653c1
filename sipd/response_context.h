// RFC 3261 §16.7, the response context of a forked request: which final
// answer of its branches goes upstream. Pure functions on status codes and
// parsed messages, so the choice is tested without a proxy.
#pragma once

#include <osipparser2/osip_parser.h>

namespace sipmasq {

// Does a branch's final non-2xx `candidate` replace `best` (0: none yet)?
// A 6xx beats everything, else the lowest class wins (step 6); the first
// answer of a class stays.
[[nodiscard]] bool better_final_answer(int candidate, int best) noexcept;

// The status sent upstream for the chosen answer: a 503 says only that
// this next hop is overloaded, so the caller gets 500 (step 6).
[[nodiscard]] int upstream_status(int status) noexcept;

// Step 7: when the chosen answer is a 401 or 407, it carries the
// challenges of every 401/407 branch. Adds those of `from` to `into`;
// false when libosip2 could not copy one.
[[nodiscard]] bool merge_challenges(osip_message_t* into, const osip_message_t* from);

}  // namespace sipmasq
