// spandsp 0.0.6 t38_terminal + T.30 driven for one call, with the negotiated T.38 parameters.
#include "tools/fax/fax_session.h"

#include <spandsp.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace t38relay::tools::fax {

namespace {

int SupportedModems(uint32_t max_bit_rate) {
  // V.27ter tops at 4800, V.29 at 9600, V.17 at 14400 bit/s.
  int modems = T30_SUPPORT_V27TER;
  if (max_bit_rate >= 7200) modems |= T30_SUPPORT_V29;
  if (max_bit_rate >= 12000) modems |= T30_SUPPORT_V17;
  return modems;
}

}  // namespace

FaxSession::FaxSession(FaxSessionConfig config, SendIfp send, Log log)
    : config_(std::move(config)), send_(std::move(send)), log_(std::move(log)) {}

FaxSession::~FaxSession() {
  if (terminal_ != nullptr) {
    // Freeing must not report a second phase E into a session being destroyed.
    t30_set_phase_e_handler(t38_terminal_get_t30_state(terminal_), nullptr, nullptr);
    t38_terminal_free(terminal_);
  }
}

absl::StatusOr<std::unique_ptr<FaxSession>> FaxSession::Create(const FaxSessionConfig& config,
                                                               SendIfp send, Log log) {
  std::unique_ptr<FaxSession> session(new FaxSession(config, std::move(send), std::move(log)));
  session->terminal_ =
      t38_terminal_init(nullptr, config.sender, &FaxSession::OnTxPacket, session.get());
  if (session->terminal_ == nullptr) return absl::InternalError("t38_terminal_init failed");
  t38_terminal_state_t* terminal = session->terminal_;

  t38_core_state_t* core = t38_terminal_get_t38_core_state(terminal);
  t38_set_t38_version(core, static_cast<int>(config.t38_version));
  // 1: TCF crosses the T.38 link (transferredTCF), 2: each gateway makes its own (localTCF).
  t38_set_data_rate_management_method(core, config.transferred_tcf ? 1 : 2);
  t38_set_max_buffer_size(core, static_cast<int>(config.peer_max_buffer));
  t38_set_max_datagram_size(core, static_cast<int>(config.peer_max_ifp));
  // Neither is offered in our SDP.
  t38_set_fill_bit_removal(core, false);
  t38_set_mmr_transcoding(core, false);
  t38_set_jbig_transcoding(core, false);
  // Over UDP: paced transmission as a fax machine would send, indicators as T.38 clause 7 asks;
  // no talker echo protection tone (there is no analogue line).
  t38_terminal_set_config(terminal, 0);
  t38_terminal_set_tep_mode(terminal, false);

  t30_state_t* t30 = t38_terminal_get_t30_state(terminal);
  t30_set_tx_ident(t30, "t38relay-fax");
  if (config.sender) {
    t30_set_tx_file(t30, config.tiff_path.c_str(), -1, -1);
  } else {
    t30_set_rx_file(t30, config.tiff_path.c_str(), -1);
  }
  t30_set_ecm_capability(t30, config.ecm);
  t30_set_supported_modems(t30, SupportedModems(config.max_bit_rate));
  // T.6 (MMR) is only allowed with ECM (T.30 Annex A).
  t30_set_supported_compressions(
      t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION |
               (config.ecm ? T30_SUPPORT_T6_COMPRESSION : 0));
  t30_set_supported_resolutions(
      t30, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |
               T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION |
               T30_SUPPORT_R16_RESOLUTION | T30_SUPPORT_300_300_RESOLUTION |
               T30_SUPPORT_400_400_RESOLUTION | T30_SUPPORT_600_600_RESOLUTION |
               T30_SUPPORT_1200_1200_RESOLUTION | T30_SUPPORT_300_600_RESOLUTION |
               T30_SUPPORT_400_800_RESOLUTION | T30_SUPPORT_600_1200_RESOLUTION);
  t30_set_supported_image_sizes(
      t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH |
               T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH |
               T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH);
  t30_set_phase_b_handler(t30, &FaxSession::OnPhaseB, session.get());
  t30_set_phase_d_handler(t30, &FaxSession::OnPhaseD, session.get());
  t30_set_phase_e_handler(t30, &FaxSession::OnPhaseE, session.get());

  // spandsp logs to stderr; only problems unless asked for the T.30 dialogue.
  const int t30_level = config.verbose
                            ? SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_FLOW
                            : SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_WARNING;
  span_log_set_level(t30_get_logging_state(t30), t30_level);
  span_log_set_level(t38_terminal_get_logging_state(terminal),
                     SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_WARNING);
  span_log_set_level(t38_core_get_logging_state(core),
                     SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_WARNING);
  return session;
}

void FaxSession::Tick() {
  if (terminal_ != nullptr) t38_terminal_send_timeout(terminal_, kSamplesPerTick);
}

void FaxSession::ReceiveIfp(uint16_t seq, dataplane::Bytes ifp) {
  t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(terminal_), ifp.data(),
                         static_cast<int>(ifp.size()), seq);
}

void FaxSession::Terminate() {
  if (finished()) return;
  t30_state_t* t30 = t38_terminal_get_t30_state(terminal_);
  t30_terminate(t30);
  if (!finished()) OnPhaseE(t30, this, T30_ERR_CALLDROPPED);
}

int FaxSession::OnTxPacket(t38_core_state_t*, void* user_data, const uint8_t* buf, int len,
                           int count) {
  auto* self = static_cast<FaxSession*>(user_data);
  self->send_(dataplane::Bytes(buf, static_cast<size_t>(len)), count);
  return 0;
}

int FaxSession::OnPhaseB(t30_state_t*, void* user_data, int result) {
  auto* self = static_cast<FaxSession*>(user_data);
  self->log_(absl::StrCat("T.30 phase B: negotiating (", t30_frametype(result), ")"));
  return T30_ERR_OK;
}

int FaxSession::OnPhaseD(t30_state_t* t30, void* user_data, int result) {
  auto* self = static_cast<FaxSession*>(user_data);
  t30_stats_t stats;
  t30_get_transfer_statistics(t30, &stats);
  self->log_(absl::StrCat("T.30 phase D (", t30_frametype(result), "): page ",
                          self->config_.sender ? stats.pages_tx : stats.pages_rx,
                          self->config_.sender ? " sent" : " received", ", ", stats.width, "x",
                          stats.length, ", ", stats.bit_rate, " bit/s",
                          stats.error_correcting_mode ? ", ECM" : ""));
  return T30_ERR_OK;
}

void FaxSession::OnPhaseE(t30_state_t* t30, void* user_data, int completion_code) {
  auto* self = static_cast<FaxSession*>(user_data);
  if (self->finished()) return;
  t30_stats_t stats;
  t30_get_transfer_statistics(t30, &stats);
  FaxResult& r = self->result_;
  r.t30_status = completion_code;
  r.t30_reason = t30_completion_code_to_str(completion_code);
  r.pages = self->config_.sender ? stats.pages_tx : stats.pages_rx;
  r.bit_rate = stats.bit_rate;
  r.ecm = stats.error_correcting_mode != 0;
  self->log_(absl::StrCat("T.30 phase E: ", r.t30_reason, " (", completion_code, ")"));
}

}  // namespace t38relay::tools::fax
