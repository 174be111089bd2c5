// The dataplane's configuration: what the JSON config file says, checked, and printed back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/dtls/identity.h"
#include "dataplane/port/port_config.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

struct DtlsSettings {
  crypto::KeyType key_type = crypto::KeyType::kRsa2048;
  // PEM files of a fixed identity; both or neither. Neither: identities are generated.
  std::optional<std::string> certificate;
  std::optional<std::string> private_key;
  // A fresh identity per call (RFC 7345 anonymity) instead of one for the process.
  bool per_call_identity = false;
  uint32_t identity_pool = 16;  // identities kept ready when per_call_identity
  uint16_t mtu = 1200;
  uint32_t initial_timeout_ms = 1000;
  uint32_t max_timeout_ms = 60000;
};

enum class CryptoBackendKind : uint8_t { kCryptodev, kSoft };

struct RelayConfig {
  std::vector<PortConfig> ports;
  // Empty means "the default" until ValidateConfig fills them from the EAL's lcores.
  std::vector<unsigned> worker_lcores;
  std::vector<unsigned> handshake_lcores;
  uint16_t leg_port_first = 20000;
  uint32_t leg_port_count = 10000;
  uint32_t leg_capacity = 100000;
  uint32_t idle_timeout_s = 60;
  uint32_t epoch_grace_ms = 5000;
  std::string socket_path = "/run/t38relay/flow.sock";
  std::optional<std::string> socket_group;  // nullopt: the process's group
  uint32_t max_clients = 64;
  DtlsSettings dtls;
  CryptoBackendKind crypto = CryptoBackendKind::kCryptodev;
  std::string crypto_device = "crypto_aesni_gcm";
  uint32_t mbufs = 32767;
};

// The config file (dataplane-cli contract). Strict: unknown or repeated keys, wrong types and
// out-of-range values are errors whose message starts with the key path
// ("ports[0].addresses[1]: '198.18.0.300/24' is not an IP prefix: bad address"). Absent keys and
// null keep the values of `base` (the defaults above unless the caller starts from another config,
// e.g. the embedded default); "ports" replaces base's list. Ends with CheckConfig.
absl::StatusOr<RelayConfig> ParseConfigJson(std::string_view text,
                                            const RelayConfig& base = RelayConfig());

// Checks that hold whatever the config came from (file, flags or both): workers and handshake
// lcores disjoint and without duplicates, leg port range inside 1..65535, certificate and key
// paired, each port's device, MTU and gateways sane, no device or address on two ports.
// ParseConfigJson and ParseCommandLine run it; messages name the key and, where one exists, the
// flag.
absl::Status CheckConfig(const RelayConfig& config);

// One port on its own: device named, MTU in 576..9216 (1280.. with an IPv6 address), no address
// twice, each gateway inside a prefix of its family on this port and not one of our addresses.
// `where` starts each message ("ports[0]", "--port 'net_tap0,...'"); the field follows it.
absl::Status CheckPortConfig(const PortConfig& port, std::string_view where);

// Against the lcores EAL enabled: fills the defaults (handshake: the last enabled lcore that is
// neither the main one nor a configured worker; workers: every enabled lcore except the main and
// the handshake ones), then requires at least one of each, all enabled, none the main lcore, and
// at least one port with an address. On error `config` may hold the filled defaults.
absl::Status ValidateConfig(RelayConfig* config, const std::vector<unsigned>& enabled_lcores,
                            unsigned main_lcore);

// The config in the file's format, every key present (empty lcore lists and unset options as
// null): ParseConfigJson(ConfigToJson(c).dump()) gives c back. For --check-config. Paths from
// argv may hold bytes that are not UTF-8: dump with nlohmann::json::error_handler_t::replace.
nlohmann::json ConfigToJson(const RelayConfig& config);

// "1", "1,3-4": lcore ids without duplicates, in the order written (ranges ascending), each
// below RTE_MAX_LCORE. Errors name neither flag nor key: callers prefix them.
absl::StatusOr<std::vector<unsigned>> ParseLcoreList(std::string_view text);

// "rsa2048" / "ecdsa-p256", "cryptodev" / "soft" as the config and the flags spell them.
std::string_view KeyTypeConfigName(crypto::KeyType type);
std::string_view CryptoBackendName(CryptoBackendKind kind);
std::optional<CryptoBackendKind> ParseCryptoBackend(std::string_view name);

}  // namespace t38relay::dataplane
