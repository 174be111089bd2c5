// Names of the drop reasons.
#include "dataplane/relay/drop_reason.h"

namespace t38relay::dataplane {

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
#define T38RELAY_DROP_NAME(e, name) \
  case DropReason::e:               \
    return name;
    T38RELAY_DROP_REASONS(T38RELAY_DROP_NAME)
#undef T38RELAY_DROP_NAME
  }
  return "unknown";
}

}  // namespace t38relay::dataplane
