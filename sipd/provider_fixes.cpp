#include "provider_fixes.h"

namespace sipmasq {

ProviderFixes provider_fixes(const Config& config) {
    ProviderFixes f;
    f.headers.strip = config.strip_header;
    f.headers.replace = config.replace_header;
    f.headers.ua_string = config.ua_string;
    f.codecs.allow = config.codec_allow;
    f.codecs.deny = config.codec_deny;
    return f;
}

ProviderTargets provider_targets(const Config& config) {
    return {config.default_target, config.did_range};
}

}  // namespace sipmasq
