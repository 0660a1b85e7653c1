// The provider fixes of sipmasq.conf(5) that change what sipmasq forwards
// (codec filter, header fixes), and the configuration they come from.
#pragma once

#include "codec_filter.h"
#include "config.h"
#include "header_fixes.h"
#include "provider_targets.h"

namespace sipmasq {

struct ProviderFixes {
    HeaderFixes headers;
    CodecFilter codecs;
};

[[nodiscard]] ProviderFixes provider_fixes(const Config& config);
[[nodiscard]] ProviderTargets provider_targets(const Config& config);

}  // namespace sipmasq
