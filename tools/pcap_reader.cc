// Reads frames from pcap and pcapng files (libpcap) for the inspector and the tests.
#include "tools/pcap_reader.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace t38relay::tools {
namespace {

constexpr int kLinkTypeRaw = 101;  // LINKTYPE_RAW

}  // namespace

absl::StatusOr<std::unique_ptr<PcapReader>> PcapReader::Open(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_open_offline(path.c_str(), err);
  if (handle == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read capture ", path, ": ", err));
  }
  return std::unique_ptr<PcapReader>(new PcapReader(handle, path));
}

PcapReader::~PcapReader() { pcap_close(handle_); }

absl::StatusOr<bool> PcapReader::Next(PcapFrame* frame) {
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == PCAP_ERROR_BREAK) return false;
  if (rc != 1) {
    return absl::DataLossError(absl::StrCat(path_, ": unreadable after frame ", count_, ": ",
                                            pcap_geterr(handle_)));
  }
  frame->number = ++count_;
  // libpcap speaks DLT_ values; only raw IP differs from its LINKTYPE_ value on Linux.
  const int dlt = pcap_datalink(handle_);
  frame->link_type = dlt == DLT_RAW ? kLinkTypeRaw : dlt;
  frame->timestamp = static_cast<double>(header->ts.tv_sec) + header->ts.tv_usec / 1e6;
  frame->original_length = header->len;
  frame->data = dataplane::Bytes(data, header->caplen);
  return true;
}

}  // namespace t38relay::tools
