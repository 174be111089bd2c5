// STUN (RFC 8489 / RFC 5389 / RFC 3489): parser, verifiers and builder over wolfCrypt HMAC and MD5.
#include "dataplane/wire/stun.h"

// wolfSSL's options.h must come before any other wolfSSL header. Only wolfSSL headers in this file.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/md5.h>

#include <algorithm>
#include <cstdio>

#include "dataplane/wire/crc32.h"

namespace t38relay::dataplane {
namespace {

// RFC 8489 section 14.7: the CRC-32 is xored with "STUN" so a FINGERPRINT cannot be confused with
// the CRC of another protocol's packet.
constexpr uint32_t kFingerprintXor = 0x5354554E;
constexpr size_t kFingerprintValueSize = 4;

constexpr size_t Padded(size_t n) { return (n + 3) & ~size_t{3}; }

// RFC 8489 section 5, figure 3: the 14-bit type interleaves the class bits C1 C0 into the method:
// M11..M7 C1 M6..M4 C0 M3..M0.
constexpr uint16_t EncodeType(StunClass c, uint16_t method) {
  const auto cls = static_cast<uint16_t>(c);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                               ((method & 0x0F80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));
}

// RFC 8489 section 5: the checks that do not need the cookie.
WireError CheckShape(Bytes datagram) {
  ByteReader r(datagram);
  uint16_t type;
  uint16_t length;
  if (!r.ReadU16(&type) || !r.ReadU16(&length) || r.remaining() < kStunHeaderSize - 4) {
    return WireError::kStunTruncated;
  }
  if ((type & 0xC000) != 0) return WireError::kStunNotStun;
  if (length % 4 != 0 || r.remaining() - (kStunHeaderSize - 4) != length) {
    return WireError::kStunBadLength;
  }
  return WireError::kOk;
}

// Whether StunAttributeName knows the type; a switch, so cheap enough per attribute.
bool IsKnownAttribute(uint16_t type) { return !StunAttributeName(type).empty(); }

// Checks a known attribute's value and records the first occurrence of each decoded one.
WireError DecodeAttribute(const StunAttribute& a, StunMessage* msg) {
  const size_t n = a.value.size();
  ByteReader v(a.value);
  switch (a.type) {
    case kStunAttrUsername:
      if (!msg->username) msg->username = a.value;
      return WireError::kOk;
    case kStunAttrSoftware:
      if (!msg->software) msg->software = a.value;
      return WireError::kOk;
    case kStunAttrRealm:
      if (!msg->realm) msg->realm = a.value;
      return WireError::kOk;
    case kStunAttrNonce:
      if (!msg->nonce) msg->nonce = a.value;
      return WireError::kOk;
    case kStunAttrXorMappedAddress:
    case kStunAttrMappedAddress: {
      SocketAddress address;
      if (DecodeStunAddress(*msg, a, &address) != WireError::kOk) {
        return WireError::kStunBadAttribute;
      }
      auto& field =
          a.type == kStunAttrXorMappedAddress ? msg->xor_mapped_address : msg->mapped_address;
      if (!field) field = address;
      return WireError::kOk;
    }
    case kStunAttrErrorCode: {
      // RFC 8489 section 14.8: 21 reserved bits, class (3 bits), number (8 bits), reason phrase.
      uint32_t word;
      if (!v.ReadU32(&word)) return WireError::kStunBadAttribute;
      const uint32_t cls = (word >> 8) & 0x7;
      const uint32_t number = word & 0xFF;
      if (cls < 3 || cls > 6 || number > 99) return WireError::kStunBadAttribute;
      if (!msg->error_code) {
        msg->error_code = StunErrorCode{static_cast<uint16_t>(cls * 100 + number),
                                        v.ReadRemaining()};
      }
      return WireError::kOk;
    }
    case kStunAttrPriority: {
      uint32_t priority;
      if (n != 4 || !v.ReadU32(&priority)) return WireError::kStunBadAttribute;
      if (!msg->priority) msg->priority = priority;
      return WireError::kOk;
    }
    case kStunAttrUseCandidate:
      if (n != 0) return WireError::kStunBadAttribute;
      msg->use_candidate = true;
      return WireError::kOk;
    case kStunAttrIceControlled:
    case kStunAttrIceControlling: {
      uint64_t tie_breaker;
      if (n != 8 || !v.ReadU64(&tie_breaker)) return WireError::kStunBadAttribute;
      auto& field = a.type == kStunAttrIceControlled ? msg->ice_controlled : msg->ice_controlling;
      if (!field) field = tie_breaker;
      return WireError::kOk;
    }
    case kStunAttrMessageIntegrity:
      if (n != kStunMessageIntegritySize) return WireError::kStunBadAttribute;
      msg->message_integrity = a;
      return WireError::kOk;
    case kStunAttrMessageIntegritySha256:
      if (n < kStunMessageIntegritySha256MinSize || n > kStunMessageIntegritySha256Size ||
          n % 4 != 0) {
        return WireError::kStunBadAttribute;
      }
      msg->message_integrity_sha256 = a;
      return WireError::kOk;
    case kStunAttrFingerprint:
      if (n != kFingerprintValueSize) return WireError::kStunBadAttribute;
      msg->fingerprint = a;
      return WireError::kOk;
    default:
      return WireError::kOk;
  }
}

void AddUnknownRequired(uint16_t type, StunMessage* msg) {
  const auto listed = msg->unknown_required_list();
  if (std::find(listed.begin(), listed.end(), type) != listed.end()) return;
  // Cannot overflow: every listed type is also in attributes[], which has the same capacity.
  msg->unknown_required[msg->unknown_required_count++] = type;
}

// The bytes a MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT attribute covers (RFC 8489 sections
// 14.5-14.7): the message up to the attribute, with the header length changed to end where the
// attribute ends. Returned in three pieces so that nothing is copied: type, new length, the rest.
struct Covered {
  Bytes type;
  std::array<uint8_t, 2> length;
  Bytes rest;
};

bool CoveredBytes(const StunMessage& msg, const StunAttribute& attr, Covered* out) {
  // Re-checked here because a caller may hand in a StunMessage it filled itself.
  if (attr.offset < kStunHeaderSize || attr.offset > msg.raw.size()) return false;
  const size_t end = attr.offset + 4 + Padded(attr.value.size());
  if (end - kStunHeaderSize > 0xFFFF) return false;
  const auto length = static_cast<uint16_t>(end - kStunHeaderSize);
  out->type = msg.raw.first(2);
  out->length = {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
  out->rest = msg.raw.subspan(4, attr.offset - 4);
  return true;
}

// HMAC over the covered bytes; `type` is WC_SHA or WC_SHA256, `mac` has room for its digest.
bool HmacCovered(int type, Bytes key, const Covered& c, uint8_t* mac) {
  Hmac hmac;
  if (wc_HmacInit(&hmac, nullptr, INVALID_DEVID) != 0) return false;
  const bool ok =
      wc_HmacSetKey(&hmac, type, key.data(), static_cast<word32>(key.size())) == 0 &&
      wc_HmacUpdate(&hmac, c.type.data(), static_cast<word32>(c.type.size())) == 0 &&
      wc_HmacUpdate(&hmac, c.length.data(), static_cast<word32>(c.length.size())) == 0 &&
      wc_HmacUpdate(&hmac, c.rest.data(), static_cast<word32>(c.rest.size())) == 0 &&
      wc_HmacFinal(&hmac, mac) == 0;
  wc_HmacFree(&hmac);
  return ok;
}

uint32_t CrcCovered(const Covered& c) {
  uint32_t crc = Crc32(c.type);
  crc = Crc32Extend(crc, c.length);
  return Crc32Extend(crc, c.rest);
}

// Examines every byte whatever the contents, so the time taken says nothing about where a forged
// MAC first differs.
bool ConstantTimeEqual(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | (a[i] ^ b[i]);
  return diff == 0;
}

WireError VerifyHmac(const std::optional<StunAttribute>& attr, const StunMessage& msg, Bytes key,
                     int type) {
  if (!attr) return WireError::kStunNoIntegrity;
  Covered covered;
  std::array<uint8_t, kStunMessageIntegritySha256Size> mac;
  if (!CoveredBytes(msg, *attr, &covered) || attr->value.size() > mac.size() ||
      !HmacCovered(type, key, covered, mac.data())) {
    return WireError::kStunBadIntegrity;
  }
  return ConstantTimeEqual(attr->value, Bytes(mac.data(), attr->value.size()))
             ? WireError::kOk
             : WireError::kStunBadIntegrity;
}

bool IsXorAddress(uint16_t type) {
  return type == kStunAttrXorMappedAddress || type == kStunAttrXorPeerAddress ||
         type == kStunAttrXorRelayedAddress;
}

bool IsAddress(uint16_t type) {
  switch (type) {
    case kStunAttrMappedAddress:
    case kStunAttrResponseAddress:
    case kStunAttrSourceAddress:
    case kStunAttrChangedAddress:
    case kStunAttrReflectedFrom:
    case kStunAttrXorMappedAddress:
    case kStunAttrXorPeerAddress:
    case kStunAttrXorRelayedAddress:
    case kStunAttrAlternateServer:
    case kStunAttrResponseOrigin:
    case kStunAttrOtherAddress:
      return true;
    default:
      return false;
  }
}

bool IsText(uint16_t type) {
  switch (type) {
    case kStunAttrUsername:
    case kStunAttrRealm:
    case kStunAttrNonce:
    case kStunAttrSoftware:
    case kStunAttrAlternateDomain:
    case kStunAttrOrigin:
      return true;
    default:
      return false;
  }
}

std::string Hex(Bytes b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0xF];
  }
  return s;
}

std::string Quoted(Bytes b) {
  std::string s = "\"";
  for (uint8_t c : b) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char esc[5];
      std::snprintf(esc, sizeof(esc), "\\x%02x", c);
      s += esc;
    }
  }
  return s + "\"";
}

}  // namespace

const StunAttribute* StunMessage::Find(uint16_t type) const {
  for (const StunAttribute& a : attribute_list()) {
    if (a.type == type) return &a;
  }
  return nullptr;
}

bool HasStunCookie(Bytes datagram) {
  ByteReader r(datagram);
  uint32_t cookie = 0;
  return r.Skip(4) && r.ReadU32(&cookie) && cookie == kStunMagicCookie;
}

bool IsStunMessage(Bytes datagram) {
  return CheckShape(datagram) == WireError::kOk && HasStunCookie(datagram);
}

bool IsClassicStunMessage(Bytes datagram) {
  return CheckShape(datagram) == WireError::kOk && !HasStunCookie(datagram);
}

// RFC 8489 section 5 (figure 2, header) and section 14 (figure 4, attributes: type, length, value
// padded to 4 bytes).
WireError ParseStun(Bytes datagram, StunMessage* msg) {
  if (const WireError e = CheckShape(datagram); e != WireError::kOk) return e;
  // Field by field rather than `*msg = {}`, which would clear the 1.5 KB arrays on every packet.
  msg->raw = datagram;
  msg->attribute_count = 0;
  msg->ignored_attribute_count = 0;
  msg->unknown_required_count = 0;
  msg->username.reset();
  msg->software.reset();
  msg->realm.reset();
  msg->nonce.reset();
  msg->xor_mapped_address.reset();
  msg->mapped_address.reset();
  msg->error_code.reset();
  msg->priority.reset();
  msg->use_candidate = false;
  msg->ice_controlled.reset();
  msg->ice_controlling.reset();
  msg->message_integrity.reset();
  msg->message_integrity_sha256.reset();
  msg->fingerprint.reset();

  // CheckShape has seen the whole header, so these reads cannot fail.
  ByteReader r(datagram);
  uint16_t type = 0;
  r.ReadU16(&type);
  r.Skip(2);
  msg->message_class = static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
  msg->method = static_cast<uint16_t>((type & 0x000F) | ((type >> 1) & 0x0070) |
                                      ((type >> 2) & 0x0F80));
  msg->has_cookie = HasStunCookie(datagram);
  if (msg->has_cookie) r.Skip(4);
  r.ReadBytes(msg->has_cookie ? kStunTransactionIdSize : kStunClassicTransactionIdSize,
              &msg->transaction_id);

  while (!r.empty()) {
    StunAttribute a;
    a.offset = static_cast<uint32_t>(r.offset());
    uint16_t value_size;
    if (!r.ReadU16(&a.type) || !r.ReadU16(&value_size) || !r.ReadBytes(value_size, &a.value) ||
        !r.Skip(Padded(value_size) - value_size)) {
      return WireError::kStunAttributeTruncated;
    }
    if (msg->fingerprint) return WireError::kStunAttributeAfterFingerprint;
    // RFC 8489 sections 14.5 and 14.6: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
    // FINGERPRINT count, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT; the rest is ignored.
    const bool counts =
        a.type == kStunAttrFingerprint ||
        (!msg->message_integrity_sha256 &&
         (!msg->message_integrity || a.type == kStunAttrMessageIntegritySha256));
    if (!counts) {
      ++msg->ignored_attribute_count;
      continue;
    }
    if (msg->attribute_count == kStunMaxAttributes) return WireError::kStunTooManyAttributes;
    msg->attributes[msg->attribute_count++] = a;
    if (a.type < 0x8000 && !IsKnownAttribute(a.type)) AddUnknownRequired(a.type, msg);
    if (const WireError e = DecodeAttribute(a, msg); e != WireError::kOk) return e;
  }
  return WireError::kOk;
}

WireError VerifyFingerprint(const StunMessage& msg) {
  if (!msg.fingerprint) return WireError::kStunNoFingerprint;
  ByteReader v(msg.fingerprint->value);
  uint32_t expected;
  Covered covered;
  if (!v.ReadU32(&expected) || !v.empty() || !CoveredBytes(msg, *msg.fingerprint, &covered)) {
    return WireError::kStunBadFingerprint;
  }
  return (CrcCovered(covered) ^ kFingerprintXor) == expected ? WireError::kOk
                                                             : WireError::kStunBadFingerprint;
}

WireError VerifyMessageIntegrity(const StunMessage& msg, Bytes key) {
  // RFC 3489 computed it differently (real length, input zero-padded to 64 bytes); ICE never
  // uses it, so it is named rather than reported as a forgery.
  if (msg.message_integrity && !msg.has_cookie) return WireError::kStunClassicIntegrity;
  if (msg.message_integrity && msg.message_integrity->value.size() != kStunMessageIntegritySize) {
    return WireError::kStunBadIntegrity;
  }
  return VerifyHmac(msg.message_integrity, msg, key, WC_SHA);
}

WireError VerifyMessageIntegritySha256(const StunMessage& msg, Bytes key) {
  if (msg.message_integrity_sha256 &&
      msg.message_integrity_sha256->value.size() < kStunMessageIntegritySha256MinSize) {
    return WireError::kStunBadIntegrity;
  }
  return VerifyHmac(msg.message_integrity_sha256, msg, key, WC_SHA256);
}

std::array<uint8_t, 16> LongTermKey(std::string_view username, std::string_view realm,
                                    std::string_view password) {
  std::array<uint8_t, 16> key{};
  wc_Md5 md5;
  if (wc_InitMd5(&md5) != 0) return key;
  const auto update = [&md5](std::string_view s) {
    wc_Md5Update(&md5, reinterpret_cast<const uint8_t*>(s.data()), static_cast<word32>(s.size()));
  };
  update(username);
  update(":");
  update(realm);
  update(":");
  update(password);
  wc_Md5Final(&md5, key.data());
  wc_Md5Free(&md5);
  return key;
}

// RFC 8489 sections 14.1 and 14.2: reserved byte, family (1 = IPv4, 2 = IPv6), port, address; the
// XOR forms xor the port with the cookie's top half and the address with cookie || transaction id.
WireError DecodeStunAddress(const StunMessage& msg, const StunAttribute& attr,
                            SocketAddress* out) {
  ByteReader v(attr.value);
  uint8_t family;
  uint16_t port;
  Bytes address;
  if (!v.Skip(1) || !v.ReadU8(&family) || !v.ReadU16(&port)) return WireError::kStunBadAttribute;
  const size_t address_size = family == 1 ? 4 : family == 2 ? 16 : 0;
  if (address_size == 0 || v.remaining() != address_size || !v.ReadBytes(address_size, &address)) {
    return WireError::kStunBadAttribute;
  }
  std::array<uint8_t, 16> bytes{};
  std::copy(address.begin(), address.end(), bytes.begin());
  if (IsXorAddress(attr.type)) {
    // The cookie and transaction id as they sit in the header (bytes 4..19); for a classic message
    // that is just what the sender had there.
    ByteReader h(msg.raw);
    Bytes mask;
    if (!h.Skip(4) || !h.ReadBytes(16, &mask)) return WireError::kStunBadAttribute;
    port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
    for (size_t i = 0; i < address_size; ++i) bytes[i] ^= mask[i];
  }
  out->ip = family == 1 ? IpAddress::V4Bytes(bytes.data()) : IpAddress::V6Bytes(bytes.data());
  out->port = port;
  return WireError::kOk;
}

StunBuilder::StunBuilder(MutableBytes out, StunClass message_class, uint16_t method,
                         Bytes transaction_id)
    : writer_(out) {
  if (method > 0x0FFF || (transaction_id.size() != kStunTransactionIdSize &&
                          transaction_id.size() != kStunClassicTransactionIdSize)) {
    Fail(WireError::kStunNotStun);
    return;
  }
  writer_.WriteU16(EncodeType(message_class, method));
  writer_.WriteU16(0);
  if (transaction_id.size() == kStunTransactionIdSize) writer_.WriteU32(kStunMagicCookie);
  writer_.WriteBytes(transaction_id);
  if (!writer_.ok()) Fail(WireError::kStunBufferTooSmall);
}

bool StunBuilder::Fail(WireError e) {
  if (error_ == WireError::kOk) error_ = e;
  return false;
}

bool StunBuilder::BeginAttribute(uint16_t type, size_t value_size) {
  if (!ok()) return false;
  switch (stage_) {
    case Stage::kAfterFingerprint:
      return Fail(WireError::kStunAttributeAfterFingerprint);
    case Stage::kAfterIntegritySha256:
      if (type != kStunAttrFingerprint) return Fail(WireError::kStunAttributeAfterIntegrity);
      break;
    case Stage::kAfterIntegrity:
      if (type != kStunAttrFingerprint && type != kStunAttrMessageIntegritySha256) {
        return Fail(WireError::kStunAttributeAfterIntegrity);
      }
      break;
    case Stage::kOpen:
      break;
  }
  if (value_size > 0xFFFF) return Fail(WireError::kStunBadAttribute);
  // The header length is set to end after this attribute before anything is computed over the
  // message: exactly what MESSAGE-INTEGRITY and FINGERPRINT need.
  const size_t end = writer_.length() + 4 + Padded(value_size);
  if (end - kStunHeaderSize > 0xFFFF) return Fail(WireError::kStunBadLength);
  if (writer_.remaining() < end - writer_.length()) return Fail(WireError::kStunBufferTooSmall);
  writer_.PatchU16(2, static_cast<uint16_t>(end - kStunHeaderSize));
  writer_.WriteU16(type);
  writer_.WriteU16(static_cast<uint16_t>(value_size));
  if (type == kStunAttrMessageIntegrity) stage_ = Stage::kAfterIntegrity;
  if (type == kStunAttrMessageIntegritySha256) stage_ = Stage::kAfterIntegritySha256;
  if (type == kStunAttrFingerprint) stage_ = Stage::kAfterFingerprint;
  return true;
}

bool StunBuilder::EndAttribute(uint8_t pad) {
  const size_t pad_size = Padded(writer_.length()) - writer_.length();
  for (size_t i = 0; i < pad_size; ++i) writer_.WriteU8(pad);
  return writer_.ok() || Fail(WireError::kStunBufferTooSmall);
}

bool StunBuilder::AddAttribute(uint16_t type, Bytes value, uint8_t pad) {
  return BeginAttribute(type, value.size()) && writer_.WriteBytes(value) && EndAttribute(pad);
}

bool StunBuilder::AddAddress(uint16_t type, const SocketAddress& address) {
  const size_t size = address.ip.size();
  if (size == 0) return Fail(WireError::kStunBadAttribute);
  if (!BeginAttribute(type, 4 + size)) return false;
  std::array<uint8_t, 16> bytes = address.ip.bytes;
  uint16_t port = address.port;
  if (IsXorAddress(type)) {
    // Bytes 4..19 of the header: cookie and transaction id (see DecodeStunAddress).
    const MutableBytes header = writer_.written().subspan(4, 16);
    port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
    for (size_t i = 0; i < size; ++i) bytes[i] ^= header[i];
  }
  writer_.WriteU8(0);
  writer_.WriteU8(address.ip.family == IpFamily::kV4 ? 1 : 2);
  writer_.WriteU16(port);
  writer_.WriteBytes(Bytes(bytes.data(), size));
  return EndAttribute(0);
}

bool StunBuilder::AddXorMappedAddress(const SocketAddress& address) {
  return AddAddress(kStunAttrXorMappedAddress, address);
}

bool StunBuilder::AddMappedAddress(const SocketAddress& address) {
  return AddAddress(kStunAttrMappedAddress, address);
}

bool StunBuilder::AddErrorCode(uint16_t code, std::string_view reason, uint8_t pad) {
  if (code < 300 || code > 699) return Fail(WireError::kStunBadAttribute);
  if (!BeginAttribute(kStunAttrErrorCode, 4 + reason.size())) return false;
  writer_.WriteU16(0);
  writer_.WriteU8(static_cast<uint8_t>(code / 100));
  writer_.WriteU8(static_cast<uint8_t>(code % 100));
  writer_.WriteBytes(Bytes(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
  return EndAttribute(pad);
}

bool StunBuilder::AddUnknownAttributes(std::span<const uint16_t> types) {
  if (!BeginAttribute(kStunAttrUnknownAttributes, 2 * types.size())) return false;
  for (uint16_t t : types) writer_.WriteU16(t);
  return EndAttribute(0);
}

bool StunBuilder::AddPriority(uint32_t priority) {
  return BeginAttribute(kStunAttrPriority, 4) && writer_.WriteU32(priority) && EndAttribute(0);
}

bool StunBuilder::AddUseCandidate() {
  return BeginAttribute(kStunAttrUseCandidate, 0) && EndAttribute(0);
}

bool StunBuilder::AddIceControlled(uint64_t tie_breaker) {
  return BeginAttribute(kStunAttrIceControlled, 8) && writer_.WriteU64(tie_breaker) &&
         EndAttribute(0);
}

bool StunBuilder::AddIceControlling(uint64_t tie_breaker) {
  return BeginAttribute(kStunAttrIceControlling, 8) && writer_.WriteU64(tie_breaker) &&
         EndAttribute(0);
}

bool StunBuilder::AddHmac(uint16_t type, Bytes key) {
  const size_t start = writer_.length();
  const bool sha1 = type == kStunAttrMessageIntegrity;
  const size_t size = sha1 ? kStunMessageIntegritySize : kStunMessageIntegritySha256Size;
  if (!BeginAttribute(type, size)) return false;
  // The header length now ends after this attribute, as RFC 8489 section 14.5 wants it hashed.
  const Bytes before = writer_.written().first(start);
  std::array<uint8_t, kStunMessageIntegritySha256Size> mac;
  Covered covered{before.first(2), {before[2], before[3]}, before.subspan(4)};
  if (!HmacCovered(sha1 ? int{WC_SHA} : int{WC_SHA256}, key, covered, mac.data())) {
    return Fail(WireError::kStunBadIntegrity);
  }
  return writer_.WriteBytes(Bytes(mac.data(), size)) && EndAttribute(0);
}

bool StunBuilder::AddMessageIntegrity(Bytes key) {
  return AddHmac(kStunAttrMessageIntegrity, key);
}

bool StunBuilder::AddMessageIntegritySha256(Bytes key) {
  return AddHmac(kStunAttrMessageIntegritySha256, key);
}

bool StunBuilder::AddFingerprint() {
  const size_t start = writer_.length();
  if (!BeginAttribute(kStunAttrFingerprint, kFingerprintValueSize)) return false;
  return writer_.WriteU32(Crc32(writer_.written().first(start)) ^ kFingerprintXor) &&
         EndAttribute(0);
}

WireError StunBuilder::Finish(size_t* length) const {
  if (error_ != WireError::kOk) return error_;
  *length = writer_.length();
  return WireError::kOk;
}

WireError BuildBindingSuccessResponse(Bytes transaction_id, const SocketAddress& mapped,
                                      Bytes local_password, MutableBytes out, size_t* length) {
  StunBuilder b(out, StunClass::kSuccessResponse, kStunBinding, transaction_id);
  b.AddXorMappedAddress(mapped);
  b.AddMessageIntegrity(local_password);
  b.AddFingerprint();
  return b.Finish(length);
}

WireError BuildBindingErrorResponse(Bytes transaction_id, uint16_t code, std::string_view reason,
                                    std::span<const uint16_t> unknown_attributes,
                                    Bytes local_password, MutableBytes out, size_t* length) {
  StunBuilder b(out, StunClass::kErrorResponse, kStunBinding, transaction_id);
  b.AddErrorCode(code, reason);
  if (!unknown_attributes.empty()) b.AddUnknownAttributes(unknown_attributes);
  if (!local_password.empty() && code != 400 && code != 401) b.AddMessageIntegrity(local_password);
  b.AddFingerprint();
  return b.Finish(length);
}

std::string_view StunClassName(StunClass c) {
  switch (c) {
    case StunClass::kRequest:
      return "request";
    case StunClass::kIndication:
      return "indication";
    case StunClass::kSuccessResponse:
      return "success-response";
    case StunClass::kErrorResponse:
      return "error-response";
  }
  return "";
}

std::string_view StunMethodName(uint16_t method) {
  switch (method) {
    case kStunBinding:
      return "Binding";
    case kStunAllocate:
      return "Allocate";
    case kStunRefresh:
      return "Refresh";
    case kStunSend:
      return "Send";
    case kStunData:
      return "Data";
    case kStunCreatePermission:
      return "CreatePermission";
    case kStunChannelBind:
      return "ChannelBind";
    default:
      return "";
  }
}

std::string_view StunAttributeName(uint16_t type) {
  switch (type) {
    case kStunAttrMappedAddress: return "MAPPED-ADDRESS";
    case kStunAttrResponseAddress: return "RESPONSE-ADDRESS";
    case kStunAttrChangeRequest: return "CHANGE-REQUEST";
    case kStunAttrSourceAddress: return "SOURCE-ADDRESS";
    case kStunAttrChangedAddress: return "CHANGED-ADDRESS";
    case kStunAttrUsername: return "USERNAME";
    case kStunAttrPassword: return "PASSWORD";
    case kStunAttrMessageIntegrity: return "MESSAGE-INTEGRITY";
    case kStunAttrErrorCode: return "ERROR-CODE";
    case kStunAttrUnknownAttributes: return "UNKNOWN-ATTRIBUTES";
    case kStunAttrReflectedFrom: return "REFLECTED-FROM";
    case kStunAttrChannelNumber: return "CHANNEL-NUMBER";
    case kStunAttrLifetime: return "LIFETIME";
    case kStunAttrXorPeerAddress: return "XOR-PEER-ADDRESS";
    case kStunAttrData: return "DATA";
    case kStunAttrRealm: return "REALM";
    case kStunAttrNonce: return "NONCE";
    case kStunAttrXorRelayedAddress: return "XOR-RELAYED-ADDRESS";
    case kStunAttrRequestedAddressFamily: return "REQUESTED-ADDRESS-FAMILY";
    case kStunAttrEvenPort: return "EVEN-PORT";
    case kStunAttrRequestedTransport: return "REQUESTED-TRANSPORT";
    case kStunAttrDontFragment: return "DONT-FRAGMENT";
    case kStunAttrAccessToken: return "ACCESS-TOKEN";
    case kStunAttrMessageIntegritySha256: return "MESSAGE-INTEGRITY-SHA256";
    case kStunAttrPasswordAlgorithm: return "PASSWORD-ALGORITHM";
    case kStunAttrUserhash: return "USERHASH";
    case kStunAttrXorMappedAddress: return "XOR-MAPPED-ADDRESS";
    case kStunAttrReservationToken: return "RESERVATION-TOKEN";
    case kStunAttrPriority: return "PRIORITY";
    case kStunAttrUseCandidate: return "USE-CANDIDATE";
    case kStunAttrPadding: return "PADDING";
    case kStunAttrResponsePort: return "RESPONSE-PORT";
    case kStunAttrConnectionId: return "CONNECTION-ID";
    case kStunAttrAdditionalAddressFamily: return "ADDITIONAL-ADDRESS-FAMILY";
    case kStunAttrAddressErrorCode: return "ADDRESS-ERROR-CODE";
    case kStunAttrPasswordAlgorithms: return "PASSWORD-ALGORITHMS";
    case kStunAttrAlternateDomain: return "ALTERNATE-DOMAIN";
    case kStunAttrIcmp: return "ICMP";
    case kStunAttrSoftware: return "SOFTWARE";
    case kStunAttrAlternateServer: return "ALTERNATE-SERVER";
    case kStunAttrTransactionTransmitCounter: return "TRANSACTION_TRANSMIT_COUNTER";
    case kStunAttrCacheTimeout: return "CACHE-TIMEOUT";
    case kStunAttrFingerprint: return "FINGERPRINT";
    case kStunAttrIceControlled: return "ICE-CONTROLLED";
    case kStunAttrIceControlling: return "ICE-CONTROLLING";
    case kStunAttrResponseOrigin: return "RESPONSE-ORIGIN";
    case kStunAttrOtherAddress: return "OTHER-ADDRESS";
    case kStunAttrEcnCheck: return "ECN-CHECK";
    case kStunAttrThirdPartyAuthorization: return "THIRD-PARTY-AUTHORIZATION";
    case kStunAttrOrigin: return "ORIGIN";
    case kStunAttrMobilityTicket: return "MOBILITY-TICKET";
    case kStunAttrGoogNetworkInfo: return "GOOG-NETWORK-INFO";
    default: return "";
  }
}

std::string FormatStunAttributeValue(const StunMessage& msg, const StunAttribute& attr) {
  ByteReader v(attr.value);
  if (IsAddress(attr.type)) {
    SocketAddress address;
    if (DecodeStunAddress(msg, attr, &address) == WireError::kOk) return address.ToString();
  } else if (IsText(attr.type)) {
    return Quoted(attr.value);
  } else if (attr.type == kStunAttrErrorCode) {
    uint32_t word;
    if (v.ReadU32(&word)) {
      const uint32_t code = ((word >> 8) & 0x7) * 100 + (word & 0xFF);
      return std::to_string(code) + " " + Quoted(v.ReadRemaining());
    }
  } else if (attr.type == kStunAttrUnknownAttributes) {
    std::string s;
    uint16_t t;
    while (attr.value.size() % 2 == 0 && v.ReadU16(&t)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%04x", t);
      s += s.empty() ? buf : std::string(",") + buf;
    }
    if (attr.value.size() % 2 == 0) return s;
  } else if (attr.type == kStunAttrPriority || attr.type == kStunAttrLifetime) {
    uint32_t n;
    if (attr.value.size() == 4 && v.ReadU32(&n)) return std::to_string(n);
  } else if (attr.type == kStunAttrFingerprint) {
    uint32_t n;
    if (attr.value.size() == 4 && v.ReadU32(&n)) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "0x%08x", n);
      return buf;
    }
  } else if (attr.type == kStunAttrIceControlled || attr.type == kStunAttrIceControlling) {
    uint64_t n;
    if (attr.value.size() == 8 && v.ReadU64(&n)) {
      char buf[24];
      std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(n));
      return buf;
    }
  }
  return Hex(attr.value);
}

}  // namespace t38relay::dataplane
