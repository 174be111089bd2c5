// libFuzzer target for control/sip: arbitrary bytes through ExtractFromBody (SIP start line,
// headers, Content-Length, multipart) must give an SDP or an error, never a crash or a hang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "control/sip/sip_message.h"

using namespace t38relay::control::sip;

namespace {

// Aborts with the failed invariant, so that the fuzzer reports it as a crash.
void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "sip_fuzzer: invariant failed: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ExtractedSdp> extracted = ExtractFromBody(bytes);
  if (!extracted.ok()) {
    Check(!extracted.status().message().empty(), "an error has a message");
    return 0;
  }
  // The SDP is a piece of the input (plus at most the CRLF a multipart delimiter took).
  Check(extracted->sdp.size() <= size + 2, "the SDP is no longer than the input + CRLF");
  absl::StatusOr<SipMessage> message = ParseSipMessage(bytes);
  if (message.ok()) {
    Check(message->body.size() <= size, "the body is part of the input");
    Check(message->headers.size() <= kMaxSipHeaders, "header cap");
    Check(message->is_request == (message->status_code == 0), "request xor status");
    // Extraction from the parsed message agrees with the one-call entry point when the input
    // had no leading blank lines.
    if (extracted->sip.has_value() && size > 0 && data[0] != '\r' && data[0] != '\n') {
      absl::StatusOr<std::string> sdp = ExtractSdp(*message);
      Check(sdp.ok() && *sdp == extracted->sdp, "ExtractSdp agrees");
      Check(extracted->sip->call_id == message->call_id, "same Call-ID");
    }
  }
  return 0;
}
