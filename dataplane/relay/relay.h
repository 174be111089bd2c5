// The dataplane process assembled: mbufs, ports, flow table shards, the record backend, worker
// and handshake lcores, and the control thread that serves the flow socket (FlowService).
#pragma once

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/dtls/dtls_engine.h"
#include "crypto/dtls/identity.h"
#include "crypto/record/aead_backend.h"
#include "dataplane/config/relay_config.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/flowsock/flow_service.h"
#include "dataplane/flowsock/server.h"
#include "dataplane/port/neighbor_table.h"
#include "dataplane/port/port_set.h"
#include "dataplane/relay/handshake_lcore.h"
#include "dataplane/relay/leg.h"
#include "dataplane/relay/mailbox.h"
#include "dataplane/relay/worker.h"

namespace t38relay::crypto {
class CryptodevDevice;
}

namespace t38relay::dataplane {

inline constexpr char kRelayVersion[] = "0.1.0";

class Relay final : public FlowService {
 public:
  // Needs a running EAL whose lcores include config.worker_lcores and handshake_lcores
  // (ValidateConfig has run). Opens the ports and the crypto device, binds the flow socket.
  static absl::StatusOr<std::unique_ptr<Relay>> Create(const RelayConfig& config);
  ~Relay() override;

  // Launches the lcores and serves the flow socket on the calling (main) lcore until `stop`;
  // then stops the lcores and sends close_notify on established legs.
  absl::Status Run(const std::atomic<bool>& stop);

  // FlowService (control thread only).
  HelloInfo Hello() override;
  absl::StatusOr<LegAddResult> AddLeg(const LegAddRequest& request) override;
  absl::Status UpdateLeg(const LegUpdateRequest& request) override;
  absl::Status LinkLegs(uint64_t a, uint64_t b) override;
  absl::Status DeleteLeg(uint64_t leg) override;
  absl::StatusOr<LegInfo> GetLeg(uint64_t leg) override;
  std::vector<LegInfo> ListLegs() override;
  nlohmann::json Stats() override;

 private:
  // What only the control thread knows of a leg.
  struct ControlLeg {
    enum class Life : uint8_t { kFree, kLive, kDeleting } life = Life::kFree;
    uint32_t generation = 0;
    size_t address_index = 0;
    DtlsSetup setup = DtlsSetup::kActpass;
    std::optional<DtlsSetup> remote_setup;
    std::vector<FingerprintValue> fingerprints;
    std::shared_ptr<const crypto::Identity> identity;
    std::optional<FingerprintValue> local_fingerprint;
    bool handshaking = false;
    std::optional<crypto::DtlsRole> role;  // resolved, or the engine's once it runs
    uint64_t created_ms = 0;
    uint64_t last_seen_rx_ms = 0;
    bool idle_reported = false;
    std::string label;  // control's, returned as is
  };
  struct RelayAddress {
    IpAddress ip;
    size_t port_index;
    std::deque<uint16_t> free_ports;
  };

  explicit Relay(const RelayConfig& config);
  absl::Status Init();
  absl::Status InitBackends();
  void ControlPass();
  void DrainEvents();
  void Reclaim();
  void ScanIdle(uint64_t now_ms);
  void FreeSlot(uint32_t index);
  Leg* FindLive(uint64_t id);
  absl::StatusOr<std::optional<crypto::DtlsRole>> ResolveRole(DtlsSetup local,
                                                             std::optional<DtlsSetup> remote) const;
  absl::StatusOr<std::vector<crypto::Fingerprint>> ParseFingerprints(
      const std::vector<FingerprintValue>& values) const;
  absl::Status SendToWorker(const Leg& leg, const WorkerCommand& command);
  // Tells the leg's handshake lcore to drop its engine and configuration.
  void ForgetHandshake(uint64_t id);
  // The command mailbox of the leg's handshake lcore.
  Mailbox<HandshakeCommandRef>& HandshakeMailOf(uint64_t id);
  absl::Status ConfigureHandshake(uint64_t id, const ControlLeg& control,
                                  std::vector<crypto::Fingerprint> fingerprints,
                                  std::optional<SocketAddress> remote);
  LegInfo InfoOf(uint32_t index) const;
  absl::StatusOr<std::shared_ptr<const crypto::Identity>> TakeIdentity(bool anonymous);

  RelayConfig config_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<PortSet> ports_;
  std::unique_ptr<NeighborTable> neighbors_;
  std::unique_ptr<LegTable> legs_;
  std::vector<ControlLeg> control_;
  std::vector<uint32_t> free_indexes_;
  // Deleted legs the flow tables let go of, whose owner has not been told to free them yet.
  std::vector<uint32_t> release_pending_;
  std::vector<RelayAddress> addresses_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::vector<std::unique_ptr<DirectFlowTable>> shards_;
  std::unique_ptr<crypto::CryptodevDevice> cryptodev_;
  std::vector<std::unique_ptr<crypto::AeadBackend>> soft_backends_;
  std::vector<std::unique_ptr<Mailbox<WorkerCommand>>> worker_mail_;
  std::unique_ptr<Mailbox<RelayEvent>> events_;
  // Per handshake lcore: its command mailbox and its punt ring.
  std::vector<std::unique_ptr<Mailbox<HandshakeCommandRef>>> handshake_mail_;
  std::vector<rte_ring*> punt_;
  std::vector<rte_ring*> handoff_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<HandshakeLcore>> handshakes_;
  std::shared_ptr<const crypto::Identity> identity_;
  std::unique_ptr<crypto::IdentityPool> identity_pool_;
  std::unique_ptr<FlowSocketServer> server_;
  std::atomic<bool> lcores_stop_{false};
  uint64_t next_idle_scan_ms_ = 0;
  uint64_t next_rotation_ms_ = 0;
  uint64_t commands_lost_ = 0;
};

}  // namespace t38relay::dataplane
