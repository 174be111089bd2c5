// The hand-made frames of tests/data/packet/handmade.tsv (gen_handmade.py, checked by tshark).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dataplane/wire/packet.h"

namespace t38relay::testing {

// The two ends of every hand-made frame.
inline constexpr dataplane::MacAddress kMacA = {0x02, 0, 0, 0, 0, 0x0a};
inline constexpr dataplane::MacAddress kMacB = {0x02, 0, 0, 0, 0, 0x0b};

// The frame called `name`. It lives as long as the test program, so views into it stay valid;
// an unknown name fails the current test and gives an empty frame.
const std::vector<uint8_t>& HandmadeFrame(const std::string& name);
// All of them, by name.
const std::map<std::string, std::vector<uint8_t>>& HandmadeFrames();

}  // namespace t38relay::testing
