// Printed names of the wire codec errors.
#include "dataplane/wire/wire_error.h"

#include <array>

namespace t38relay::dataplane {

std::string_view WireErrorName(WireError e) {
  static constexpr std::array<std::string_view, static_cast<size_t>(WireError::kCount)> kNames = {
#define T38RELAY_WIRE_ERROR_NAME(name, text) text,
      T38RELAY_WIRE_ERRORS(T38RELAY_WIRE_ERROR_NAME)
#undef T38RELAY_WIRE_ERROR_NAME
  };
  const auto i = static_cast<size_t>(e);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown-error");
}

}  // namespace t38relay::dataplane
