// Named errors of the wire codecs: one X-macro list that makes the enum and its names.
//
// The names are what the inspector prints, what counters are called and what tests compare, so they
// are stable: add at the end of a section, never rename.
#pragma once

#include <cstdint>
#include <string_view>

namespace t38relay::dataplane {

// X(EnumName, "printed-name")
#define T38RELAY_WIRE_ERRORS(X)                                          \
  X(kOk, "ok")                                                           \
  /* link, network and transport layers */                               \
  X(kEthernetTruncated, "ethernet-truncated")                            \
  X(kEthernetTooManyVlans, "ethernet-too-many-vlans")                    \
  X(kLinkTypeUnsupported, "link-type-unsupported")                       \
  X(kNotIp, "not-ip")                                                    \
  X(kIpv4Truncated, "ipv4-truncated")                                    \
  X(kIpv4BadVersion, "ipv4-bad-version")                                 \
  X(kIpv4BadHeaderLength, "ipv4-bad-header-length")                      \
  X(kIpv4BadTotalLength, "ipv4-bad-total-length")                        \
  X(kIpv4BadChecksum, "ipv4-bad-checksum")                               \
  X(kIpv6Truncated, "ipv6-truncated")                                    \
  X(kIpv6BadVersion, "ipv6-bad-version")                                 \
  X(kIpv6BadPayloadLength, "ipv6-bad-payload-length")                    \
  X(kIpv6TooManyExtensions, "ipv6-too-many-extension-headers")           \
  X(kIpv6BadExtension, "ipv6-bad-extension-header")                      \
  X(kNotUdp, "not-udp")                                                  \
  X(kIpFragment, "ip-fragment")                                          \
  X(kUdpTruncated, "udp-truncated")                                      \
  X(kUdpBadLength, "udp-bad-length")                                     \
  X(kUdpBadChecksum, "udp-bad-checksum")                                 \
  X(kArpTruncated, "arp-truncated")                                      \
  X(kArpUnsupported, "arp-unsupported")                                  \
  X(kIcmpTruncated, "icmp-truncated")                                    \
  X(kIcmpBadChecksum, "icmp-bad-checksum")                               \
  X(kNdpTruncated, "ndp-truncated")                                      \
  X(kNdpBadOption, "ndp-bad-option")                                     \
  X(kNdpBadHopLimit, "ndp-bad-hop-limit")                                \
  X(kLinkTruncated, "link-truncated")                                    \
  X(kUdpZeroChecksumIpv6, "udp-zero-checksum-ipv6")                      \
  X(kIcmpUnsupported, "icmp-unsupported")                                \
  X(kPacketBufferTooSmall, "packet-buffer-too-small")                    \
  X(kNdpBadTarget, "ndp-bad-target")                                    \
  X(kNdpBadDestination, "ndp-bad-destination")                          \
  /* STUN (RFC 8489 / RFC 5389 / RFC 3489) */                            \
  X(kStunTruncated, "stun-truncated")                                    \
  X(kStunNotStun, "stun-not-stun")                                       \
  X(kStunBadLength, "stun-bad-length")                                   \
  X(kStunAttributeTruncated, "stun-attribute-truncated")                 \
  X(kStunTooManyAttributes, "stun-too-many-attributes")                  \
  X(kStunBadAttribute, "stun-bad-attribute")                             \
  X(kStunAttributeAfterIntegrity, "stun-attribute-after-integrity")      \
  X(kStunAttributeAfterFingerprint, "stun-attribute-after-fingerprint")  \
  X(kStunBadFingerprint, "stun-bad-fingerprint")                         \
  X(kStunBadIntegrity, "stun-bad-integrity")                             \
  X(kStunNoIntegrity, "stun-no-integrity")                               \
  X(kStunBufferTooSmall, "stun-buffer-too-small")                        \
  X(kStunNoFingerprint, "stun-no-fingerprint")                           \
  X(kStunClassicIntegrity, "stun-classic-integrity-unsupported")         \
  /* DTLS 1.2 record layer (RFC 6347) */                                 \
  X(kDtlsTruncatedHeader, "dtls-truncated-header")                       \
  X(kDtlsTruncatedRecord, "dtls-truncated-record")                       \
  X(kDtlsBadContentType, "dtls-bad-content-type")                        \
  X(kDtlsBadVersion, "dtls-bad-version")                                 \
  X(kDtlsRecordTooLong, "dtls-record-too-long")                          \
  X(kDtlsTooManyRecords, "dtls-too-many-records")                        \
  X(kDtlsHandshakeTruncated, "dtls-handshake-truncated")                 \
  X(kDtlsHandshakeBadFragment, "dtls-handshake-bad-fragment")            \
  X(kDtlsBufferTooSmall, "dtls-buffer-too-small")                        \
  /* UDPTL (T.38 clause 9.1) and IFP */                                  \
  X(kUdptlTruncated, "udptl-truncated")                                  \
  X(kUdptlBadLength, "udptl-bad-length")                                 \
  X(kUdptlTooManySecondary, "udptl-too-many-secondary")                  \
  X(kUdptlTooManyFec, "udptl-too-many-fec")                              \
  X(kUdptlBadFecCount, "udptl-bad-fec-count")                            \
  X(kUdptlIfpTooLong, "udptl-ifp-too-long")                              \
  X(kUdptlTrailingBytes, "udptl-trailing-bytes")                         \
  X(kUdptlBufferTooSmall, "udptl-buffer-too-small")                      \
  X(kUdptlFecUnrecoverable, "udptl-fec-unrecoverable")                   \
  X(kIfpTruncated, "ifp-truncated")                                      \
  X(kIfpBadType, "ifp-bad-type")                                         \
  X(kIfpBadFieldType, "ifp-bad-field-type")                              \
  X(kIfpTooManyFields, "ifp-too-many-fields")                            \
  X(kIfpBadFieldLength, "ifp-bad-field-length")                          \
  X(kIfpTrailingBytes, "ifp-trailing-bytes")                             \
  X(kIfpBufferTooSmall, "ifp-buffer-too-small")                          \
  X(kUdptlFragmentedLength, "udptl-fragmented-length")                   \
  X(kUdptlNotCanonical, "udptl-not-canonical")                           \
  X(kIfpNotCanonical, "ifp-not-canonical")

enum class WireError : uint8_t {
#define T38RELAY_WIRE_ERROR_ENUM(name, text) name,
  T38RELAY_WIRE_ERRORS(T38RELAY_WIRE_ERROR_ENUM)
#undef T38RELAY_WIRE_ERROR_ENUM
      kCount
};

// The stable printed name, e.g. "stun-bad-fingerprint".
std::string_view WireErrorName(WireError e);

}  // namespace t38relay::dataplane
