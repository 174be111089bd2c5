// The SDP rendezvous files of the fax endpoint: written whole (FILE.tmp, then rename) and read
// once they exist, so that two endpoints, or t38ctl between them, exchange offer and answer.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace t38relay::tools::fax {

// Larger files are refused: an SDP is a few hundred octets (control/sdp caps it at 64 KiB).
inline constexpr size_t kMaxRendezvousBytes = 64 * 1024;
inline constexpr std::chrono::milliseconds kRendezvousPoll{50};

// Writes `path`.tmp and renames it to `path`: a reader never sees half a file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text);

// Polls every kRendezvousPoll until `path` exists, then reads it. DeadlineExceeded after `wait`;
// `cancelled` (may be empty) is asked between polls and ends the wait with Cancelled.
absl::StatusOr<std::string> WaitForFile(const std::string& path, std::chrono::milliseconds wait,
                                        const std::function<bool()>& cancelled = {});

}  // namespace t38relay::tools::fax
