// The fax endpoint's run: rendezvous, negotiation, then one poll() loop that paces spandsp every
// 20 ms and feeds it the IFPs that arrive in between.
#include "tools/fax/fax_endpoint.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/fax/rendezvous.h"
#include "tools/fax/tiff_compare.h"
#include "tools/fax/transport.h"
#include "tools/fax/udptl_channel.h"

namespace t38relay::tools::fax {

namespace sdp = control::sdp;
using dataplane::Bytes;

namespace {

// After T.30 ends we stay a moment: the last IFPs (DCN) and their repeats are still on their
// way to the peer, which may need them to end its side.
constexpr uint64_t kLingerMs = 1000;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

EndpointResult SetupError(EndpointResult r, std::string message) {
  r.exit_code = 2;
  r.setup_error = std::move(message);
  return r;
}

EndpointResult Failed(EndpointResult r, std::string error) {
  r.exit_code = 1;
  r.error = std::move(error);
  return r;
}

// The other side's SDP once its file appears. Cancelled when interrupted; otherwise errors name
// the flag and the problem.
absl::StatusOr<control::offer_answer::PeerStream> AwaitPeerSdp(
    std::string_view flag, const std::string& path, SdpRole role, std::chrono::milliseconds wait,
    const std::function<bool()>& interrupted) {
  absl::StatusOr<std::string> text = WaitForFile(path, wait, interrupted);
  if (!text.ok()) {
    if (absl::IsCancelled(text.status())) return text.status();
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(flag), ": ", text.status().message()));
  }
  return ReadEndpointSdp(*text, role);
}

EndpointResult AwaitFailed(EndpointResult r, const absl::Status& status) {
  if (absl::IsCancelled(status)) return Failed(std::move(r), "interrupted");
  return SetupError(std::move(r), std::string(status.message()));
}

absl::Status CheckWritableTarget(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tiff-out ", path, ": directory ", dir.string(), " is not writable"));
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t PeerMaxIfp(uint32_t max_datagram, sdp::T38UdpEc ec, uint32_t depth) {
  // seq-number (2), the recovery choice and count (2), and per IFP or FEC entry its length (2).
  constexpr uint32_t kPacketOverhead = 4;
  constexpr uint32_t kPerIfp = 2;
  constexpr uint32_t kFloor = 32;  // below this spandsp cannot carry an HDLC frame's chunk
  const uint32_t copies = ec == sdp::T38UdpEc::kNone ? 1 : 1 + depth;
  const uint32_t room = max_datagram > kPacketOverhead ? max_datagram - kPacketOverhead : 0;
  const uint32_t per = room / copies;
  return std::max(per > kPerIfp ? per - kPerIfp : 0, kFloor);
}

nlohmann::ordered_json EndpointResultToJson(const EndpointResult& r) {
  nlohmann::ordered_json j;
  j["role"] = r.role == FaxRole::kSend ? "send" : "receive";
  j["ok"] = r.exit_code == 0;
  j["t30_status"] = r.fax.t30_status;
  j["t30_reason"] = r.fax.t30_reason;
  j["pages"] = r.fax.pages;
  j["bit_rate"] = r.fax.bit_rate;
  j["ecm"] = r.fax.ecm;
  j["duration_s"] = std::round(r.duration_s * 1000) / 1000;
  j["transport"] = r.transport == Proto::kDtls ? "dtls" : "plain";
  j["dtls_cipher"] = r.dtls_cipher;
  j["packets_sent"] = r.packets_sent;
  j["packets_received"] = r.packets_received;
  j["recovered"] = r.recovered;
  j["lost"] = r.lost;
  j["error"] = r.error;
  return j;
}

EndpointResult RunEndpoint(const EndpointOptions& options, std::ostream& log) {
  EndpointResult result;
  result.role = options.role;
  result.transport = options.transport;
  auto say = [&log](std::string_view line) { log << "t38relay-fax: " << line << "\n" << std::flush; };
  const std::function<bool()> interrupted = [&options] {
    return options.interrupted != nullptr && *options.interrupted != 0;
  };

  if (options.role == FaxRole::kSend) {
    if (absl::Status s = CheckSendableTiff(options.tiff); !s.ok()) {
      return SetupError(result, absl::StrCat("--tiff: ", s.message()));
    }
  } else if (absl::Status s = CheckWritableTarget(options.tiff); !s.ok()) {
    return SetupError(result, std::string(s.message()));
  }
  absl::StatusOr<UdpSocket> socket = UdpSocket::Bind(options.local);
  if (!socket.ok()) return SetupError(result, absl::StrCat("--local: ", socket.status().message()));
  say(absl::StrCat("bound ", socket->local().ToString()));

  std::shared_ptr<const crypto::Identity> identity;
  LocalSdp local;
  local.proto = options.transport;
  local.address = socket->local();
  local.session_id = control::offer_answer::RandomSessionId();
  if (options.transport == Proto::kDtls) {
    absl::StatusOr<std::shared_ptr<const crypto::Identity>> generated =
        crypto::Identity::Generate(options.key_type);
    if (!generated.ok()) {
      return SetupError(result, absl::StrCat("identity: ", generated.status().message()));
    }
    identity = *std::move(generated);
    local.fingerprint = identity->SdpFingerprint();
    local.tls_id = control::offer_answer::RandomTlsId();
  }

  // The offer/answer exchange through the rendezvous files.
  const auto sdp_wait = std::chrono::milliseconds(static_cast<int64_t>(options.sdp_wait_s * 1000));
  control::offer_answer::PeerStream peer;
  if (options.offerer()) {
    local.setup = options.setup.value_or(dataplane::DtlsSetup::kActpass);
    local.t38 = OfferT38Params(options.ec, options.ec_depth);
    if (absl::Status s = WriteFileAtomically(options.offer_out, WriteEndpointSdp(local));
        !s.ok()) {
      return SetupError(result, absl::StrCat("--offer-out: ", s.message()));
    }
    say(absl::StrCat("offer written to ", options.offer_out, "; waiting for ", options.answer_in));
    absl::StatusOr<control::offer_answer::PeerStream> read =
        AwaitPeerSdp("--answer-in", options.answer_in, SdpRole::kAnswer, sdp_wait, interrupted);
    if (!read.ok()) return AwaitFailed(std::move(result), read.status());
    peer = *std::move(read);
  } else {
    say(absl::StrCat("waiting for the offer in ", options.offer_in));
    absl::StatusOr<control::offer_answer::PeerStream> read =
        AwaitPeerSdp("--offer-in", options.offer_in, SdpRole::kOffer, sdp_wait, interrupted);
    if (!read.ok()) return AwaitFailed(std::move(result), read.status());
    peer = *std::move(read);
    // RFC 3264 section 6: a stream we cannot take is answered with port 0.
    local.reject = peer.port == 0 || peer.proto != options.transport;
    local.setup = options.setup.value_or(control::offer_answer::AnswerSetupFor(peer.setup));
    local.t38 = AnswerT38Params(peer.t38, options.ec_depth);
    LocalSdp answer = local;
    if (local.reject) answer.proto = peer.proto;  // the rejected m= line as offered
    if (absl::Status s = WriteFileAtomically(options.answer_out, WriteEndpointSdp(answer));
        !s.ok()) {
      return SetupError(result, absl::StrCat("--answer-out: ", s.message()));
    }
    say(absl::StrCat(local.reject ? "rejecting answer" : "answer", " written to ",
                     options.answer_out));
  }
  absl::StatusOr<Negotiated> negotiated = Negotiate(local, peer, options.offerer());
  if (!negotiated.ok()) {
    if (absl::IsInvalidArgument(negotiated.status())) {
      return SetupError(result, std::string(negotiated.status().message()));
    }
    return Failed(result, std::string(negotiated.status().message()));
  }
  const Negotiated& n = *negotiated;
  if (n.remote.ip.family != socket->local().ip.family) {
    return Failed(result, absl::StrCat("the ", options.offerer() ? "answer" : "offer",
                                       "'s address ", n.remote.ToString(),
                                       " is not of the family of --local ",
                                       socket->local().ToString()));
  }
  const uint32_t depth = EcDepthFor(n.ec, options.ec_depth);
  say(absl::StrCat(std::string(control::offer_answer::ProtoName(n.proto)), " to ", n.remote.ToString(),
                   n.proto == Proto::kDtls
                       ? absl::StrCat(", DTLS ",
                                      n.dtls_role == crypto::DtlsRole::kClient ? "client" : "server")
                       : "",
                   ", ", std::string(sdp::T38UdpEcName(n.ec)),
                   n.ec == sdp::T38UdpEc::kNone ? "" : absl::StrCat(" depth ", depth),
                   ", T.38 version ", n.t38_version, ", peer max datagram ",
                   n.peer_max_datagram));

  // Media.
  std::unique_ptr<FaxSession> session;
  FaxSessionConfig fax_config;
  fax_config.sender = options.role == FaxRole::kSend;
  fax_config.tiff_path = options.tiff;
  fax_config.ecm = options.ecm;
  fax_config.t38_version = n.t38_version;
  fax_config.max_bit_rate = n.max_bit_rate;
  fax_config.transferred_tcf = n.transferred_tcf;
  fax_config.peer_max_buffer = n.peer_max_buffer;
  fax_config.peer_max_ifp = PeerMaxIfp(n.peer_max_datagram, n.ec, depth);
  fax_config.verbose = options.verbose;

  UdptlSender sender(n.ec, depth, n.peer_max_datagram);
  UdptlReceiver receiver(
      n.t38_version == 0 ? dataplane::IfpVariant::k1998 : dataplane::IfpVariant::k2002,
      [&session](uint16_t seq, Bytes ifp) {
        if (session != nullptr) session->ReceiveIfp(seq, ifp);
      });
  std::unique_ptr<FaxTransport> transport;
  std::string send_error;
  auto send_ifp = [&](Bytes ifp, int count) {
    if (count <= 0) return;  // spandsp's "suppress this category"
    absl::StatusOr<Bytes> datagram = sender.Frame(ifp);
    if (!datagram.ok()) {
      if (send_error.empty()) send_error = std::string(datagram.status().message());
      return;
    }
    // spandsp's count is how often this IFP goes out (3 for indicators and the ends of HDLC
    // and image data): repeats of one packet, same sequence number, which the peer drops as
    // duplicates once it has one. Redundancy cannot cover the last packets of a burst.
    for (int i = 0; i < count; ++i) (void)transport->Send(*datagram);
  };
  uint64_t media_start_ms = 0;
  uint64_t fax_end_ms = 0;
  auto start_session = [&]() -> absl::Status {
    if (session != nullptr || transport == nullptr || !transport->ready()) {
      return absl::OkStatus();
    }
    absl::StatusOr<std::unique_ptr<FaxSession>> created =
        FaxSession::Create(fax_config, send_ifp, say);
    if (!created.ok()) return created.status();
    session = *std::move(created);
    say(absl::StrCat(options.role == FaxRole::kSend ? "sending " : "receiving into ",
                     options.tiff));
    return absl::OkStatus();
  };

  FaxTransport::Callbacks callbacks;
  absl::Status session_status;
  callbacks.on_payload = [&](Bytes udptl) {
    // A DTLS peer may send its first IFPs in the datagram right after its Finished.
    if (session == nullptr) session_status.Update(start_session());
    receiver.Receive(udptl);
  };
  callbacks.log = say;
  if (n.proto == Proto::kDtls) {
    DtlsSettings settings;
    settings.role = n.dtls_role;
    settings.identity = identity;
    settings.peer_fingerprints = n.peer_fingerprints;
    settings.keylog_path = options.keylog;
    absl::StatusOr<std::unique_ptr<FaxTransport>> created =
        FaxTransport::Dtls(&*socket, n.remote, std::move(settings), std::move(callbacks));
    if (!created.ok()) return SetupError(result, absl::StrCat("dtls: ", created.status().message()));
    transport = *std::move(created);
  } else {
    transport = FaxTransport::Plain(&*socket, n.remote, std::move(callbacks));
  }

  media_start_ms = NowMs();
  const uint64_t deadline_ms =
      media_start_ms + static_cast<uint64_t>(options.timeout_s * 1000);
  uint64_t next_tick_ms = 0;
  transport->Start(media_start_ms);
  std::string error;
  for (;;) {
    uint64_t now = NowMs();
    if (session == nullptr) {
      session_status.Update(start_session());
      if (session != nullptr) next_tick_ms = now;
    }
    if (!session_status.ok()) {
      error = absl::StrCat("spandsp: ", session_status.message());
      break;
    }
    if (interrupted()) {
      error = "interrupted";
      break;
    }
    if (!transport->failure().empty()) {
      error = transport->failure();
      break;
    }
    if (session != nullptr && !session->finished()) {
      // Behind by more than a second (a stopped process): resume rather than run spandsp's
      // clock in a burst.
      if (now > next_tick_ms + 1000) next_tick_ms = now;
      while (now >= next_tick_ms && !session->finished()) {
        session->Tick();
        next_tick_ms += kTickMs;
      }
    }
    if (session != nullptr && session->finished()) {
      if (fax_end_ms == 0) fax_end_ms = now;
      if (now >= fax_end_ms + kLingerMs || transport->peer_closed()) break;
    } else if (transport->peer_closed()) {
      // The peer hung up. Whether that was too early is T.30's call: a sender whose last page
      // was confirmed (MCF) and which is only sending DCN has completed its fax.
      if (session == nullptr) error = "the peer closed the DTLS association before the fax began";
      break;
    }
    if (now >= deadline_ms) {
      error = absl::StrFormat("timeout: the fax did not end within %g s (--timeout)",
                              options.timeout_s);
      break;
    }
    uint64_t wake = deadline_ms;
    if (session != nullptr && !session->finished()) wake = std::min(wake, next_tick_ms);
    if (fax_end_ms != 0) wake = std::min(wake, fax_end_ms + kLingerMs);
    if (std::optional<uint64_t> t = transport->timer_deadline()) wake = std::min(wake, *t);
    pollfd pfd{.fd = socket->fd(), .events = POLLIN, .revents = 0};
    poll(&pfd, 1, wake > now ? static_cast<int>(wake - now) : 0);
    now = NowMs();
    transport->Poll(now);
    if (std::optional<uint64_t> t = transport->timer_deadline(); t && now >= *t) {
      transport->OnTimer(now);
    }
  }
  if (session != nullptr) {
    session->Terminate();
    if (fax_end_ms == 0) fax_end_ms = NowMs();
  }
  transport->Close();

  const uint64_t end_ms = fax_end_ms != 0 ? fax_end_ms : NowMs();
  result.duration_s = static_cast<double>(end_ms - media_start_ms) / 1000.0;
  result.dtls_cipher = std::string(transport->cipher());
  result.packets_sent = transport->counters().payloads_sent;
  result.packets_received = transport->counters().payloads_received;
  result.recovered = receiver.counters().recovered;
  result.lost = receiver.counters().lost;
  if (session != nullptr) result.fax = session->result();
  // spandsp may still call send_ifp while it is freed: before the transport and the callbacks go.
  session.reset();
  if (error.empty() && !result.fax.ok()) {
    error = absl::StrCat("T.30: ", result.fax.t30_reason.empty() ? "no result"
                                                                 : result.fax.t30_reason);
  }
  if (error.empty() && !send_error.empty()) say(absl::StrCat("warning: ", send_error));
  say(absl::StrFormat("%s after %.1f s: %d page(s), %d bit/s%s; UDPTL %u sent, %u received, "
                      "%u recovered, %u lost, %u duplicate",
                      error.empty() ? "done" : "failed", result.duration_s, result.fax.pages,
                      result.fax.bit_rate, result.fax.ecm ? ", ECM" : "", result.packets_sent,
                      result.packets_received, result.recovered, result.lost,
                      receiver.counters().duplicates));
  if (!error.empty()) return Failed(std::move(result), std::move(error));
  result.exit_code = 0;
  return result;
}

}  // namespace t38relay::tools::fax
