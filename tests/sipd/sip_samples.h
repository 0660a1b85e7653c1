// Realistic SIP texts as phones send them, for the sipd unit tests.
#pragma once

#include <string>
#include <string_view>

namespace sipmasq::samples {

// Replaces "\n" line ends by "\r\n" and fixes nothing else.
std::string crlf(std::string_view text);
// When set (by tests that play phones against the whole proxy), every
// request a sample builds gets a top Via branch of its own, as a new
// request from a phone would.
extern bool unique_branches;
// crlf() and a Content-Length that matches the body after the blank line.
std::string with_body(std::string_view headers_without_length, std::string_view body);

// alice (192.0.2.10, inside) registering at sipmasq (registrar mode).
std::string register_alice();
// The same REGISTER with two contacts, and a refresh.
std::string register_alice_two_contacts();
std::string register_alice_star();
std::string register_alice_query();
// alice's INVITE to bob@203.0.113.50 with an SDP offer.
std::string invite_alice_to_bob();
std::string sdp_offer_alice();
// bob's 200 OK to an INVITE forwarded by sipmasq (top Via: sipmasq outside).
std::string ok_from_bob(std::string_view our_via_branch);
// bob calling alice's public AOR from outside.
std::string invite_bob_to_alice_public();

}  // namespace sipmasq::samples
