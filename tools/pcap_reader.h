// Reads frames from pcap and pcapng files (libpcap) for the inspector and the tests.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/wire/byte_reader.h"

namespace t38relay::tools {

struct PcapFrame {
  uint64_t number = 0;  // 1-based, as Wireshark numbers frames
  int link_type = 0;    // pcap LINKTYPE_* value
  double timestamp = 0;
  uint32_t original_length = 0;  // > data.size() when the capture was cut short (snaplen)
  dataplane::Bytes data;         // valid until the next call to Next()
};

class PcapReader {
 public:
  // Opens a pcap or pcapng file; the error names the file and libpcap's reason.
  static absl::StatusOr<std::unique_ptr<PcapReader>> Open(const std::string& path);
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // Fills *frame and returns true, or returns false at the end of the file. A damaged file is an
  // error naming the frame where reading stopped (so is a pcapng interface whose link type differs
  // from the first one's: libpcap refuses those).
  absl::StatusOr<bool> Next(PcapFrame* frame);

 private:
  PcapReader(pcap_t* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  pcap_t* handle_;
  std::string path_;
  uint64_t count_ = 0;
};

}  // namespace t38relay::tools
