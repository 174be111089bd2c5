// The punt dynamic field's registration.
#include "dataplane/relay/punt.h"

#include <rte_errno.h>

#include "absl/strings/str_cat.h"

namespace t38relay::dataplane {

int punt_info_offset = -1;

absl::Status RegisterPuntInfo() {
  static const rte_mbuf_dynfield kField = {
      .name = "t38relay_punt_info",
      .size = sizeof(PuntInfo),
      .align = alignof(PuntInfo),
      .flags = 0,
  };
  int offset = rte_mbuf_dynfield_register(&kField);
  if (offset < 0) {
    return absl::InternalError(
        absl::StrCat("cannot register the mbuf field for punted packets: ",
                     rte_strerror(rte_errno)));
  }
  punt_info_offset = offset;
  return absl::OkStatus();
}

}  // namespace t38relay::dataplane
