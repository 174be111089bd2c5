// One T.38 fax call as spandsp's t38_terminal runs it: T.30 sending or receiving a TIFF, IFPs in
// and out, paced by the caller's clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "dataplane/wire/byte_reader.h"

// spandsp's types, declared here so that users of this header need not include spandsp.
struct t38_terminal_state_s;
struct t38_core_state_s;
struct t30_state_s;

namespace t38relay::tools::fax {

// spandsp runs at 8000 samples per second; the caller advances it in steps of kTickMs.
inline constexpr int kSampleRate = 8000;
inline constexpr int kTickMs = 20;
inline constexpr int kSamplesPerTick = kSampleRate * kTickMs / 1000;

struct FaxSessionConfig {
  bool sender = true;     // the calling party, sending tiff_path; else receiving into it
  std::string tiff_path;
  bool ecm = true;        // T.30 error correction mode offered
  // From the negotiated SDP.
  uint32_t t38_version = 0;
  uint32_t max_bit_rate = 14400;
  bool transferred_tcf = true;
  uint32_t peer_max_buffer = 200;
  uint32_t peer_max_ifp = 400;  // the largest IFP the peer's datagrams leave room for
  bool verbose = false;         // spandsp's T.30 flow log on stderr
};

struct FaxResult {
  int t30_status = -1;  // spandsp's T30_ERR_*; -1 while the call has not ended
  std::string t30_reason;
  int pages = 0;        // sent (sender) or received (receiver)
  int bit_rate = 0;
  bool ecm = false;
  bool ok() const { return t30_status == 0; }
};

class FaxSession {
 public:
  // An IFP to send (count: spandsp's transmission count for its category, e.g. 3 for
  // indicators and the end of HDLC / image data).
  using SendIfp = std::function<void(dataplane::Bytes ifp, int count)>;
  using Log = std::function<void(std::string_view line)>;

  // Fails when spandsp cannot be initialised.
  static absl::StatusOr<std::unique_ptr<FaxSession>> Create(const FaxSessionConfig& config,
                                                            SendIfp send, Log log);
  ~FaxSession();
  FaxSession(const FaxSession&) = delete;
  FaxSession& operator=(const FaxSession&) = delete;

  // Advances spandsp's clock by kSamplesPerTick samples (its timers, its paced transmission).
  void Tick();
  // An IFP received in sequence order.
  void ReceiveIfp(uint16_t seq, dataplane::Bytes ifp);
  // The call is over (transport failed, peer hung up, timeout): T.30 ends now if it has not.
  void Terminate();

  bool finished() const { return result_.t30_status >= 0; }
  const FaxResult& result() const { return result_; }

 private:
  FaxSession(FaxSessionConfig config, SendIfp send, Log log);
  static int OnTxPacket(t38_core_state_s* core, void* user_data, const uint8_t* buf, int len, int count);
  static int OnPhaseB(t30_state_s* t30, void* user_data, int result);
  static int OnPhaseD(t30_state_s* t30, void* user_data, int result);
  static void OnPhaseE(t30_state_s* t30, void* user_data, int completion_code);

  FaxSessionConfig config_;
  SendIfp send_;
  Log log_;
  t38_terminal_state_s* terminal_ = nullptr;
  FaxResult result_;
};

}  // namespace t38relay::tools::fax
