// STUN messages (RFC 8489, RFC 5389, and RFC 3489 "classic"): shape test, parser, verifiers, builder.
//
// Parsing is a pure function of the datagram: it allocates nothing and StunMessage holds views into
// the input, so the input must outlive it. The verifiers re-read those bytes; the builder writes into
// a caller's buffer.
//
// Credentials: the short-term key is the password bytes as given; the long-term key is
// LongTermKey(username, realm, password). SASLprep (RFC 4013) is not applied here: callers pass the
// already prepared password (e.g. RFC 5769 section 2.4's "The<U+00AD>M<U+00AA>tr<U+2168>" becomes
// "TheMatrIX").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

inline constexpr size_t kStunHeaderSize = 20;
inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunTransactionIdSize = 12;
// RFC 3489 has no cookie: its transaction id is the 16 bytes after the length field.
inline constexpr size_t kStunClassicTransactionIdSize = 16;
// More attributes than this in one message is kStunTooManyAttributes. Real Binding and TURN
// messages carry fewer than 15.
inline constexpr size_t kStunMaxAttributes = 64;
inline constexpr size_t kStunMessageIntegritySize = 20;
inline constexpr size_t kStunMessageIntegritySha256Size = 32;
// RFC 8489 section 14.6: MESSAGE-INTEGRITY-SHA256 may be truncated, to no less than 16 bytes.
inline constexpr size_t kStunMessageIntegritySha256MinSize = 16;

// RFC 8489 section 5: the two class bits C1 C0 of the message type.
enum class StunClass : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

// 12-bit methods (IANA "STUN Methods"); others are carried numerically.
enum StunMethod : uint16_t {
  kStunBinding = 0x001,
  kStunAllocate = 0x003,  // RFC 8656 (TURN)
  kStunRefresh = 0x004,
  kStunSend = 0x006,
  kStunData = 0x007,
  kStunCreatePermission = 0x008,
  kStunChannelBind = 0x009,
};

// Attribute types (IANA "STUN Attributes"). Types below 0x8000 are comprehension-required.
enum StunAttributeType : uint16_t {
  kStunAttrMappedAddress = 0x0001,
  kStunAttrResponseAddress = 0x0002,  // RFC 3489
  kStunAttrChangeRequest = 0x0003,    // RFC 3489 / RFC 5780
  kStunAttrSourceAddress = 0x0004,    // RFC 3489
  kStunAttrChangedAddress = 0x0005,   // RFC 3489
  kStunAttrUsername = 0x0006,
  kStunAttrPassword = 0x0007,  // RFC 3489
  kStunAttrMessageIntegrity = 0x0008,
  kStunAttrErrorCode = 0x0009,
  kStunAttrUnknownAttributes = 0x000A,
  kStunAttrReflectedFrom = 0x000B,  // RFC 3489
  kStunAttrChannelNumber = 0x000C,  // RFC 8656 (TURN)
  kStunAttrLifetime = 0x000D,
  kStunAttrXorPeerAddress = 0x0012,
  kStunAttrData = 0x0013,
  kStunAttrRealm = 0x0014,
  kStunAttrNonce = 0x0015,
  kStunAttrXorRelayedAddress = 0x0016,
  kStunAttrRequestedAddressFamily = 0x0017,
  kStunAttrEvenPort = 0x0018,
  kStunAttrRequestedTransport = 0x0019,
  kStunAttrDontFragment = 0x001A,
  kStunAttrAccessToken = 0x001B,  // RFC 7635
  kStunAttrMessageIntegritySha256 = 0x001C,
  kStunAttrPasswordAlgorithm = 0x001D,
  kStunAttrUserhash = 0x001E,
  kStunAttrXorMappedAddress = 0x0020,
  kStunAttrReservationToken = 0x0022,
  kStunAttrPriority = 0x0024,  // RFC 8445 (ICE)
  kStunAttrUseCandidate = 0x0025,
  kStunAttrPadding = 0x0026,       // RFC 5780
  kStunAttrResponsePort = 0x0027,  // RFC 5780
  kStunAttrConnectionId = 0x002A,  // RFC 6062
  kStunAttrAdditionalAddressFamily = 0x8000,
  kStunAttrAddressErrorCode = 0x8001,
  kStunAttrPasswordAlgorithms = 0x8002,
  kStunAttrAlternateDomain = 0x8003,
  kStunAttrIcmp = 0x8004,
  kStunAttrSoftware = 0x8022,
  kStunAttrAlternateServer = 0x8023,
  kStunAttrTransactionTransmitCounter = 0x8025,  // RFC 7982
  kStunAttrCacheTimeout = 0x8027,  // RFC 5780
  kStunAttrFingerprint = 0x8028,
  kStunAttrIceControlled = 0x8029,
  kStunAttrIceControlling = 0x802A,
  kStunAttrResponseOrigin = 0x802B,  // RFC 5780
  kStunAttrOtherAddress = 0x802C,    // RFC 5780
  kStunAttrEcnCheck = 0x802D,
  kStunAttrThirdPartyAuthorization = 0x802E,
  kStunAttrOrigin = 0x802F,
  kStunAttrMobilityTicket = 0x8030,  // RFC 8016
  kStunAttrGoogNetworkInfo = 0xC057,  // WebRTC
};

// One attribute as it sits in the message: `offset` is where its 4-byte header starts, counted from
// the start of the message; `value` excludes the padding.
struct StunAttribute {
  uint16_t type = 0;
  uint32_t offset = 0;
  Bytes value;
};

// ERROR-CODE (RFC 8489 section 14.8): code = class * 100 + number, 300..699.
struct StunErrorCode {
  uint16_t code = 0;
  Bytes reason;  // UTF-8 reason phrase, not validated
};

// ParseStun resets every field one by one: a new field needs a line there.
struct StunMessage {
  StunClass message_class = StunClass::kRequest;
  uint16_t method = 0;
  // False for an RFC 3489 message: then transaction_id is 16 bytes, else 12.
  bool has_cookie = false;
  Bytes transaction_id;
  // The whole message, which the verifiers read.
  Bytes raw;

  // The attributes the message carries, in order, except those after MESSAGE-INTEGRITY (or
  // MESSAGE-INTEGRITY-SHA256) that RFC 8489 sections 14.5 and 14.6 say to ignore: those are only
  // counted in ignored_attribute_count.
  size_t attribute_count = 0;
  std::array<StunAttribute, kStunMaxAttributes> attributes;
  size_t ignored_attribute_count = 0;
  // Comprehension-required types (< 0x8000) that StunAttributeName() does not know, each once:
  // what an RFC 8489 section 6.3.1 420 response lists in UNKNOWN-ATTRIBUTES. A user that does not
  // handle some known type (say a TURN attribute in a Binding request) checks for it itself.
  size_t unknown_required_count = 0;
  std::array<uint16_t, kStunMaxAttributes> unknown_required;

  // Decoded values of the first occurrence of each of these attributes.
  std::optional<Bytes> username;
  std::optional<Bytes> software;
  std::optional<Bytes> realm;
  std::optional<Bytes> nonce;
  std::optional<SocketAddress> xor_mapped_address;
  std::optional<SocketAddress> mapped_address;
  std::optional<StunErrorCode> error_code;
  std::optional<uint32_t> priority;
  bool use_candidate = false;
  std::optional<uint64_t> ice_controlled;   // tie-breaker
  std::optional<uint64_t> ice_controlling;  // tie-breaker
  std::optional<StunAttribute> message_integrity;
  std::optional<StunAttribute> message_integrity_sha256;
  std::optional<StunAttribute> fingerprint;

  std::span<const StunAttribute> attribute_list() const {
    return std::span<const StunAttribute>(attributes.data(), attribute_count);
  }
  std::span<const uint16_t> unknown_required_list() const {
    return std::span<const uint16_t>(unknown_required.data(), unknown_required_count);
  }
  // The first attribute of this type, or nullptr.
  const StunAttribute* Find(uint16_t type) const;
};

// RFC 8489 section 5: what a demultiplexer checks once the first byte says STUN (RFC 7983): the two
// top bits zero, a length that is a multiple of 4 and fills the datagram exactly, the magic cookie.
bool IsStunMessage(Bytes datagram);
// Only the magic cookie at bytes 4..7: a message that claims to be RFC 5389/8489 STUN, whatever
// else is wrong with it.
bool HasStunCookie(Bytes datagram);
// The same shape, but without the magic cookie: an RFC 3489 message.
bool IsClassicStunMessage(Bytes datagram);

// Parses one STUN message, modern or classic (RFC 8489 sections 5, 6 and 14). Known attributes with
// a malformed value (wrong address length or family, ERROR-CODE class outside 3..6, ...) are
// kStunBadAttribute; unknown ones are only listed. Nothing may follow FINGERPRINT. Text attributes
// are not checked for UTF-8. After an error *msg holds nothing to rely on.
WireError ParseStun(Bytes datagram, StunMessage* msg);

// FINGERPRINT check (RFC 8489 section 14.7): kOk, kStunNoFingerprint or kStunBadFingerprint.
WireError VerifyFingerprint(const StunMessage& msg);
// MESSAGE-INTEGRITY check (RFC 8489 section 14.5, HMAC-SHA1): kOk, kStunNoIntegrity or
// kStunBadIntegrity; kStunClassicIntegrity for an RFC 3489 message (its HMAC input differs and is
// not checked here). `key` is the short-term password or LongTermKey().
WireError VerifyMessageIntegrity(const StunMessage& msg, Bytes key);
// MESSAGE-INTEGRITY-SHA256 check (RFC 8489 section 14.6), accepting a value truncated to 16..32 bytes.
WireError VerifyMessageIntegritySha256(const StunMessage& msg, Bytes key);

// RFC 8489 section 9.2.2: MD5(username ":" realm ":" password), password already SASLprep'd.
std::array<uint8_t, 16> LongTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password);

// Decodes an address attribute: XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS with
// the message's cookie and transaction id (RFC 8489 section 14.2), every other type as a plain
// MAPPED-ADDRESS layout (section 14.1). kStunBadAttribute on a bad length or family.
WireError DecodeStunAddress(const StunMessage& msg, const StunAttribute& attr, SocketAddress* out);

// Builds a message into a caller's buffer (RFC 8489 sections 5 and 14). Every Add* returns false once
// the builder has failed (buffer too small, bad argument, attribute after FINGERPRINT); the failure
// is sticky and Finish() names it. The header length always covers what has been added, so
// MESSAGE-INTEGRITY and FINGERPRINT are computed as RFC 8489 sections 14.5 to 14.7 require.
class StunBuilder {
 public:
  // `transaction_id` is 12 bytes (magic cookie written before it) or 16 (classic RFC 3489); another
  // size, or a method above 0xFFF, fails with kStunNotStun.
  StunBuilder(MutableBytes out, StunClass message_class, uint16_t method, Bytes transaction_id);

  // Writes the value as given, then pads to 4 bytes with `pad` (RFC 5769's vectors pad with 0x20).
  bool AddAttribute(uint16_t type, Bytes value, uint8_t pad = 0);
  bool AddXorMappedAddress(const SocketAddress& address);
  bool AddMappedAddress(const SocketAddress& address);
  // `code` is 300..699.
  bool AddErrorCode(uint16_t code, std::string_view reason, uint8_t pad = 0);
  bool AddUnknownAttributes(std::span<const uint16_t> types);
  bool AddPriority(uint32_t priority);
  bool AddUseCandidate();
  bool AddIceControlled(uint64_t tie_breaker);
  bool AddIceControlling(uint64_t tie_breaker);
  bool AddMessageIntegrity(Bytes key);
  bool AddMessageIntegritySha256(Bytes key);
  bool AddFingerprint();

  bool ok() const { return error_ == WireError::kOk; }
  // The message length (header included) in *length, or the first error.
  WireError Finish(size_t* length) const;

 private:
  // Where the message stands in RFC 8489's order: ... MESSAGE-INTEGRITY,
  // MESSAGE-INTEGRITY-SHA256, FINGERPRINT.
  enum class Stage : uint8_t { kOpen, kAfterIntegrity, kAfterIntegritySha256, kAfterFingerprint };

  bool AddAddress(uint16_t type, const SocketAddress& address);
  bool AddHmac(uint16_t type, Bytes key);
  // Checks the attribute may follow what is there, then writes its header.
  bool BeginAttribute(uint16_t type, size_t value_size);
  // Pads the attribute just written.
  bool EndAttribute(uint8_t pad);
  bool Fail(WireError e);

  ByteWriter writer_;
  WireError error_ = WireError::kOk;
  Stage stage_ = Stage::kOpen;
};

// The ICE-lite answer to a valid Binding request (RFC 8445 section 7.3, RFC 8489 section 9.1.4):
// XOR-MAPPED-ADDRESS = the request's source, MESSAGE-INTEGRITY with the local password, FINGERPRINT.
WireError BuildBindingSuccessResponse(Bytes transaction_id, const SocketAddress& mapped,
                                      Bytes local_password, MutableBytes out, size_t* length);
// A Binding error response: ERROR-CODE (e.g. 400, 401, 420, 487), UNKNOWN-ATTRIBUTES when
// `unknown_attributes` is not empty (420), MESSAGE-INTEGRITY when `local_password` is not empty
// (RFC 8489 section 9.1.4: an authenticated request gets an authenticated answer, but never for 400
// or 401), then FINGERPRINT.
WireError BuildBindingErrorResponse(Bytes transaction_id, uint16_t code, std::string_view reason,
                                    std::span<const uint16_t> unknown_attributes,
                                    Bytes local_password, MutableBytes out, size_t* length);

// "request", "indication", "success-response", "error-response".
std::string_view StunClassName(StunClass c);
// "Binding", "Allocate", ...; "" for a method without a name here.
std::string_view StunMethodName(uint16_t method);
// "XOR-MAPPED-ADDRESS", ...; "" for an unknown type.
std::string_view StunAttributeName(uint16_t type);
// The value as the inspector prints it: addresses as "ip:port", ERROR-CODE as `401 "Unauthorized"`,
// numbers in decimal (tie-breakers in hex), text attributes quoted, USE-CANDIDATE as "", anything
// else (and anything malformed) as hex. For tools, not per packet: it allocates.
std::string FormatStunAttributeValue(const StunMessage& msg, const StunAttribute& attr);

}  // namespace t38relay::dataplane
