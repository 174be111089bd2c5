// libFuzzer target for the STUN codec: parse, verify, and rebuild whatever parsed (round trip).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "dataplane/wire/stun.h"

using namespace t38relay::dataplane;

#define STUN_FUZZ_CHECK(cond)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace {

constexpr std::array<uint8_t, 8> kKey = {'f', 'u', 'z', 'z', '-', 'k', 'e', 'y'};

bool Same(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

bool SameText(const std::optional<Bytes>& a, const std::optional<Bytes>& b) {
  return a.has_value() == b.has_value() && (!a || Same(*a, *b));
}

bool IsIntegrityOrFingerprint(uint16_t type) {
  return type == kStunAttrMessageIntegrity || type == kStunAttrMessageIntegritySha256 ||
         type == kStunAttrFingerprint;
}

void CheckParsed(Bytes input, const StunMessage& m) {
  STUN_FUZZ_CHECK(m.raw.data() == input.data() && m.raw.size() == input.size());
  STUN_FUZZ_CHECK(m.transaction_id.size() ==
                  (m.has_cookie ? kStunTransactionIdSize : kStunClassicTransactionIdSize));
  STUN_FUZZ_CHECK(m.attribute_count <= kStunMaxAttributes);
  size_t next = kStunHeaderSize;
  for (const StunAttribute& a : m.attribute_list()) {
    // In order, 4-byte aligned, inside the message, and views into the input.
    STUN_FUZZ_CHECK(a.offset >= next && a.offset % 4 == 0);
    STUN_FUZZ_CHECK(a.offset + 4 + a.value.size() <= input.size());
    STUN_FUZZ_CHECK(a.value.data() == input.data() + a.offset + 4);
    next = a.offset + 4 + a.value.size();
  }
  for (uint16_t t : m.unknown_required_list()) {
    STUN_FUZZ_CHECK(t < 0x8000 && StunAttributeName(t).empty() && m.Find(t) != nullptr);
  }
  if (m.fingerprint) {
    STUN_FUZZ_CHECK(m.attribute_count > 0 &&
                    m.attributes[m.attribute_count - 1].type == kStunAttrFingerprint);
  }
}

// Rebuilds the parsed attributes in order, with fresh MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT,
// and checks the result parses to the same message and verifies.
void CheckRoundTrip(Bytes input, const StunMessage& m) {
  // A truncated MESSAGE-INTEGRITY-SHA256 comes back at its full 32 bytes.
  static std::array<uint8_t, 65536 + 64> out;
  StunBuilder b(out, m.message_class, m.method, m.transaction_id);
  for (const StunAttribute& a : m.attribute_list()) {
    if (a.type == kStunAttrMessageIntegrity) {
      b.AddMessageIntegrity(kKey);
    } else if (a.type == kStunAttrMessageIntegritySha256) {
      b.AddMessageIntegritySha256(kKey);
    } else if (a.type == kStunAttrFingerprint) {
      b.AddFingerprint();
    } else {
      b.AddAttribute(a.type, a.value);
    }
  }
  size_t length = 0;
  STUN_FUZZ_CHECK(b.Finish(&length) == WireError::kOk);
  const Bytes rebuilt(out.data(), length);
  if (m.ignored_attribute_count == 0 &&
      (!m.message_integrity_sha256 ||
       m.message_integrity_sha256->value.size() == kStunMessageIntegritySha256Size)) {
    STUN_FUZZ_CHECK(length == input.size());
  }

  StunMessage again;
  STUN_FUZZ_CHECK(ParseStun(rebuilt, &again) == WireError::kOk);
  STUN_FUZZ_CHECK(IsStunMessage(rebuilt) == m.has_cookie);
  STUN_FUZZ_CHECK(again.message_class == m.message_class && again.method == m.method);
  STUN_FUZZ_CHECK(again.has_cookie == m.has_cookie);
  STUN_FUZZ_CHECK(Same(again.transaction_id, m.transaction_id));
  STUN_FUZZ_CHECK(again.ignored_attribute_count == 0);
  STUN_FUZZ_CHECK(again.attribute_count == m.attribute_count);
  for (size_t i = 0; i < m.attribute_count; ++i) {
    STUN_FUZZ_CHECK(again.attributes[i].type == m.attributes[i].type);
    if (!IsIntegrityOrFingerprint(m.attributes[i].type)) {
      STUN_FUZZ_CHECK(Same(again.attributes[i].value, m.attributes[i].value));
    }
  }
  STUN_FUZZ_CHECK(std::equal(again.unknown_required_list().begin(),
                             again.unknown_required_list().end(),
                             m.unknown_required_list().begin(), m.unknown_required_list().end()));
  STUN_FUZZ_CHECK(SameText(again.username, m.username) && SameText(again.software, m.software) &&
                  SameText(again.realm, m.realm) && SameText(again.nonce, m.nonce));
  STUN_FUZZ_CHECK(again.xor_mapped_address == m.xor_mapped_address);
  STUN_FUZZ_CHECK(again.mapped_address == m.mapped_address);
  STUN_FUZZ_CHECK(again.error_code.has_value() == m.error_code.has_value());
  if (m.error_code) {
    STUN_FUZZ_CHECK(again.error_code->code == m.error_code->code);
    STUN_FUZZ_CHECK(Same(again.error_code->reason, m.error_code->reason));
  }
  STUN_FUZZ_CHECK(again.priority == m.priority && again.use_candidate == m.use_candidate);
  STUN_FUZZ_CHECK(again.ice_controlled == m.ice_controlled);
  STUN_FUZZ_CHECK(again.ice_controlling == m.ice_controlling);
  const WireError integrity = !m.message_integrity ? WireError::kStunNoIntegrity
                              : m.has_cookie        ? WireError::kOk
                                                    : WireError::kStunClassicIntegrity;
  STUN_FUZZ_CHECK(VerifyMessageIntegrity(again, kKey) == integrity);
  STUN_FUZZ_CHECK(VerifyMessageIntegritySha256(again, kKey) ==
                  (m.message_integrity_sha256 ? WireError::kOk : WireError::kStunNoIntegrity));
  STUN_FUZZ_CHECK(VerifyFingerprint(again) ==
                  (m.fingerprint ? WireError::kOk : WireError::kStunNoFingerprint));
}

// What the ICE-lite responder would send back must parse and verify.
void CheckResponses(const StunMessage& m) {
  if (!m.has_cookie || m.method != kStunBinding || m.message_class != StunClass::kRequest) return;
  std::array<uint8_t, 512> out;
  size_t length = 0;
  const SocketAddress mapped =
      m.xor_mapped_address.value_or(SocketAddress{IpAddress::V4(0xC0000201), 3478});
  STUN_FUZZ_CHECK(BuildBindingSuccessResponse(m.transaction_id, mapped, kKey, out, &length) ==
                  WireError::kOk);
  StunMessage response;
  STUN_FUZZ_CHECK(ParseStun(Bytes(out.data(), length), &response) == WireError::kOk);
  STUN_FUZZ_CHECK(response.xor_mapped_address == mapped);
  STUN_FUZZ_CHECK(VerifyMessageIntegrity(response, kKey) == WireError::kOk);
  STUN_FUZZ_CHECK(VerifyFingerprint(response) == WireError::kOk);

  STUN_FUZZ_CHECK(BuildBindingErrorResponse(m.transaction_id, 420, "Unknown Attribute",
                                            m.unknown_required_list(), kKey, out,
                                            &length) == WireError::kOk);
  STUN_FUZZ_CHECK(ParseStun(Bytes(out.data(), length), &response) == WireError::kOk);
  STUN_FUZZ_CHECK(response.error_code && response.error_code->code == 420);
  STUN_FUZZ_CHECK(VerifyMessageIntegrity(response, kKey) == WireError::kOk);
  STUN_FUZZ_CHECK(VerifyFingerprint(response) == WireError::kOk);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes input(data, size);
  const bool modern = IsStunMessage(input);
  const bool classic = IsClassicStunMessage(input);
  STUN_FUZZ_CHECK(!(modern && classic));

  StunMessage m;
  const WireError e = ParseStun(input, &m);
  // The verifiers must be safe on whatever the parser left, even after a failure.
  const WireError fingerprint = VerifyFingerprint(m);
  const WireError integrity = VerifyMessageIntegrity(m, kKey);
  const WireError integrity_sha256 = VerifyMessageIntegritySha256(m, kKey);
  for (const StunAttribute& a : m.attribute_list()) {
    SocketAddress address;
    DecodeStunAddress(m, a, &address);
    FormatStunAttributeValue(m, a);
  }
  if (e != WireError::kOk) return 0;

  STUN_FUZZ_CHECK(modern || classic);
  STUN_FUZZ_CHECK(m.has_cookie == modern);
  STUN_FUZZ_CHECK((fingerprint == WireError::kStunNoFingerprint) == !m.fingerprint);
  STUN_FUZZ_CHECK((integrity == WireError::kStunNoIntegrity) == !m.message_integrity);
  STUN_FUZZ_CHECK((integrity_sha256 == WireError::kStunNoIntegrity) ==
                  !m.message_integrity_sha256);
  CheckParsed(input, m);
  CheckRoundTrip(input, m);
  CheckResponses(m);
  return 0;
}
