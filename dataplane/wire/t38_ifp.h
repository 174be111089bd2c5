// T.38 IFP packets (IFPPacket, T.38 clause 9 / Annex A ASN.1) in aligned PER: decode, encode, names
// and a coarse classification for statistics.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

// The two ASN.1 modules in use. They encode alike except that the 2002 module (T.38 corrigendum)
// gives Data-Field field-type an extension marker, which adds one bit before every field type.
// spandsp (t38_version 0) and tshark's default use the 1998 "pre-corrigendum" form.
enum class IfpVariant : uint8_t { k1998, k2002 };

// Which alternative of the Type-of-msg CHOICE a packet carries.
enum class IfpMsgKind : uint8_t { kIndicator, kData };

// Type-of-msg t30-indicator: the root values, then the 2002 extension additions. Any other
// extension addition decodes to kFirstExtension + its index (the name lookup says "unknown").
enum class T30Indicator : uint8_t {
  kNoSignal = 0,
  kCng,
  kCed,
  kV21Preamble,
  kV27_2400Training,
  kV27_4800Training,
  kV29_7200Training,
  kV29_9600Training,
  kV17_7200ShortTraining,
  kV17_7200LongTraining,
  kV17_9600ShortTraining,
  kV17_9600LongTraining,
  kV17_12000ShortTraining,
  kV17_12000LongTraining,
  kV17_14400ShortTraining,
  kV17_14400LongTraining,
  kFirstExtension,  // 2002 additions from here
  kV8Ansam = kFirstExtension,
  kV8Signal,
  kV34CntlChannel1200,
  kV34PriChannel,
  kV34CcRetrain,
  kV33_12000Training,
  kV33_14400Training,
};

// Type-of-msg t30-data (called "data" in the 1998 module): modulation and rate of the data.
enum class T30Data : uint8_t {
  kV21 = 0,
  kV27_2400,
  kV27_4800,
  kV29_7200,
  kV29_9600,
  kV17_7200,
  kV17_9600,
  kV17_12000,
  kV17_14400,
  kFirstExtension,  // 2002 additions from here
  kV8 = kFirstExtension,
  kV34PriRate,
  kV34Cc1200,
  kV34PriCh,
  kV33_12000,
  kV33_14400,
};

// Data-Field field-type. The 1998 module has only the eight root values.
enum class IfpFieldType : uint8_t {
  kHdlcData = 0,
  kHdlcSigEnd,
  kHdlcFcsOk,
  kHdlcFcsBad,
  kHdlcFcsOkSigEnd,
  kHdlcFcsBadSigEnd,
  kT4NonEcmData,
  kT4NonEcmSigEnd,
  kFirstExtension,  // 2002 additions from here
  kCmMessage = kFirstExtension,
  kJmMessage,
  kCiMessage,
  kV34Rate,
};

// Extension additions are carried as normally small numbers; only indexes below this decode.
inline constexpr int kIfpMaxExtensionIndex = 63;

// Fields per IFP. spandsp sends one (ECM: hdlc-data or an FCS/sig-end marker; non-ECM: one T.4
// chunk); T.38 allows a few in one packet (e.g. last data + hdlc-fcs-OK-sig-end). 16 is well above
// what any stack packs into one datagram.
inline constexpr size_t kMaxIfpFields = 16;

struct IfpField {
  IfpFieldType type = IfpFieldType::kHdlcData;
  bool has_data = false;
  Bytes data;  // 1..65535 octets when has_data; a view into the decoded input
};

struct IfpPacket {
  IfpMsgKind kind = IfpMsgKind::kIndicator;
  T30Indicator indicator = T30Indicator::kNoSignal;  // when kind == kIndicator
  T30Data data_type = T30Data::kV21;                 // when kind == kData
  // The OPTIONAL data-field is present (it may still hold zero fields).
  bool has_data_field = false;
  std::array<IfpField, kMaxIfpFields> field_storage{};
  size_t field_count = 0;

  std::span<const IfpField> fields() const { return {field_storage.data(), field_count}; }
};

// Decodes one IFP that fills all of `in` (an open type from UDPTL): kIfpTrailingBytes if octets
// are left over.
WireError DecodeIfp(Bytes in, IfpVariant variant, IfpPacket* out);
// Decodes an IFP at the start of `in` and reports the octets it takes (FEC recovery uses this to
// cut a rebuilt IFP to its own length).
WireError DecodeIfpPrefix(Bytes in, IfpVariant variant, IfpPacket* out, size_t* consumed);
// Encodes into `out`; *written is the IFP's length in octets.
WireError EncodeIfp(const IfpPacket& packet, IfpVariant variant, MutableBytes out, size_t* written);

// ASN.1 identifiers ("cng", "v17-14400-long-training", "v21", "hdlc-fcs-OK-sig-end", ...), or
// "unknown" for an extension addition no module names.
std::string_view T30IndicatorName(T30Indicator v);
std::string_view T30DataName(T30Data v);
std::string_view IfpFieldTypeName(IfpFieldType v);
// The indicator or data name of the packet's type-of-msg.
std::string_view IfpTypeName(const IfpPacket& p);
// Reverse lookups by ASN.1 identifier.
std::optional<T30Indicator> FindT30Indicator(std::string_view name);
std::optional<T30Data> FindT30Data(std::string_view name);
std::optional<IfpFieldType> FindIfpFieldType(std::string_view name);

// Coarse classes for statistics.
enum class IfpClass : uint8_t {
  kNoSignal,
  kCng,
  kCed,
  kV21Preamble,
  kTraining,     // a modem training indicator (V.27, V.29, V.17, V.33 image modems)
  kHdlcControl,  // T.30 control frames: data at V.21 (or the V.34 control channel)
  kImageData,    // data at an image rate: t4-non-ecm-* (incl. TCF) or ECM HDLC frames
  kOther,        // V.8 / V.34 signalling and anything unrecognised
};
IfpClass ClassifyIfp(const IfpPacket& p);
std::string_view IfpClassName(IfpClass c);

}  // namespace t38relay::dataplane
