// The hand-made frames of tests/data/packet/handmade.tsv (gen_handmade.py, checked by tshark).
#include "tests/dataplane/wire/handmade_frames.h"

#include <map>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::testing {

const std::map<std::string, std::vector<uint8_t>>& HandmadeFrames() {
  static const auto* frames = [] {
    auto* map = new std::map<std::string, std::vector<uint8_t>>;
    std::istringstream in(ReadFileText(TestDataDir() + "/packet/handmade.tsv"));
    std::string line;
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab != std::string::npos) (*map)[line.substr(0, tab)] = FromHex(line.substr(tab + 1));
    }
    return map;
  }();
  return *frames;
}

const std::vector<uint8_t>& HandmadeFrame(const std::string& name) {
  static const std::vector<uint8_t> kNone;
  const auto& frames = HandmadeFrames();
  const auto it = frames.find(name);
  if (it == frames.end()) {
    ADD_FAILURE() << "no hand-made frame " << name;
    return kNone;
  }
  return it->second;
}

}  // namespace t38relay::testing
