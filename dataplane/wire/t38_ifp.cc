// T.38 IFP packets (IFPPacket) in aligned PER: decode, encode, names and classification.
//
// T.38 Annex A (T38(1998) and T38(2002) modules), encoded per X.691 aligned PER:
//   IFPPacket ::= SEQUENCE { type-of-msg Type-of-msg, data-field Data-Field OPTIONAL }
//     -> 1 presence bit, 1 CHOICE bit, then the ENUMERATED: 1 extension bit and a 4-bit root
//        index (16 indicators / 9 data rates) or a normally small extension index.
//   Data-Field ::= SEQUENCE OF SEQUENCE { field-type ENUMERATED, field-data OCTET STRING
//                  (SIZE (1..65535)) OPTIONAL }
//     -> aligned count, then per field: 1 presence bit, the field type (1998: 3 bits; 2002: an
//        extension bit first), and when present an aligned 16-bit (length - 1) and the octets.
#include "dataplane/wire/t38_ifp.h"

#include "dataplane/wire/per.h"

namespace t38relay::dataplane {
namespace {

constexpr uint32_t kIndicatorRoot = static_cast<uint32_t>(T30Indicator::kFirstExtension);
constexpr uint32_t kDataRoot = static_cast<uint32_t>(T30Data::kFirstExtension);
constexpr uint32_t kFieldTypeRoot = static_cast<uint32_t>(IfpFieldType::kFirstExtension);
constexpr uint32_t kFieldDataMax = 65535;

constexpr std::string_view kIndicatorNames[] = {
    "no-signal",
    "cng",
    "ced",
    "v21-preamble",
    "v27-2400-training",
    "v27-4800-training",
    "v29-7200-training",
    "v29-9600-training",
    "v17-7200-short-training",
    "v17-7200-long-training",
    "v17-9600-short-training",
    "v17-9600-long-training",
    "v17-12000-short-training",
    "v17-12000-long-training",
    "v17-14400-short-training",
    "v17-14400-long-training",
    "v8-ansam",
    "v8-signal",
    "v34-cntl-channel-1200",
    "v34-pri-channel",
    "v34-CC-retrain",
    "v33-12000-training",
    "v33-14400-training",
};
constexpr std::string_view kDataNames[] = {
    "v21",          "v27-2400",    "v27-4800",   "v29-7200",  "v29-9600",
    "v17-7200",     "v17-9600",    "v17-12000",  "v17-14400", "v8",
    "v34-pri-rate", "v34-CC-1200", "v34-pri-ch", "v33-12000", "v33-14400",
};
constexpr std::string_view kFieldTypeNames[] = {
    "hdlc-data",           "hdlc-sig-end",         "hdlc-fcs-OK",     "hdlc-fcs-BAD",
    "hdlc-fcs-OK-sig-end", "hdlc-fcs-BAD-sig-end", "t4-non-ecm-data", "t4-non-ecm-sig-end",
    "cm-message",          "jm-message",           "ci-message",      "v34rate",
};
constexpr std::string_view kClassNames[] = {
    "no-signal", "cng", "ced", "v21-preamble", "training", "hdlc-control", "image-data", "other",
};

template <size_t N>
std::string_view NameOf(const std::string_view (&names)[N], uint32_t v) {
  return v < N ? names[v] : std::string_view("unknown");
}

template <typename E, size_t N>
std::optional<E> Find(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// `range_error` is what a length or number beyond the codec's limits means at this point.
WireError MapStatus(PerStatus s, WireError range_error) {
  switch (s) {
    case PerStatus::kOk:
      return WireError::kOk;
    case PerStatus::kTruncated:
      return WireError::kIfpTruncated;
    case PerStatus::kNotCanonical:
      return WireError::kIfpNotCanonical;
    case PerStatus::kFragmented:
    case PerStatus::kOutOfRange:
      break;
  }
  return range_error;
}

// An extensible ENUMERATED (X.691 14): extension bit, then the root index as a constrained whole
// number or the addition's index as a normally small number. Yields root + index for additions.
WireError ReadExtensibleEnum(BitReader& in, uint32_t root, WireError bad, uint32_t* value) {
  bool extended;
  if (!in.ReadBit(&extended)) return WireError::kIfpTruncated;
  uint32_t v;
  if (extended) {
    if (WireError e = MapStatus(ReadNormallySmallNumber(in, &v), bad); e != WireError::kOk) {
      return e;
    }
    *value = root + v;
    return WireError::kOk;
  }
  if (WireError e = MapStatus(ReadConstrainedWholeNumber(in, root, &v), bad); e != WireError::kOk) {
    return e;
  }
  if (v >= root) return bad;
  *value = v;
  return WireError::kOk;
}

bool WriteExtensibleEnum(BitWriter& out, uint32_t root, uint32_t value) {
  if (value < root) return out.WriteBit(false) && WriteConstrainedWholeNumber(out, root, value);
  return out.WriteBit(true) && WriteNormallySmallNumber(out, value - root);
}

WireError ReadField(BitReader& in, IfpVariant variant, IfpField* field) {
  bool has_data;
  if (!in.ReadBit(&has_data)) return WireError::kIfpTruncated;
  uint32_t type;
  if (variant == IfpVariant::k2002) {
    if (WireError e = ReadExtensibleEnum(in, kFieldTypeRoot, WireError::kIfpBadFieldType, &type);
        e != WireError::kOk) {
      return e;
    }
  } else if (!in.ReadBits(3, &type)) {  // 1998: a plain 8-value ENUMERATED
    return WireError::kIfpTruncated;
  }
  field->type = static_cast<IfpFieldType>(type);
  field->has_data = has_data;
  field->data = Bytes();
  if (!has_data) return WireError::kOk;
  uint32_t length_minus_one;
  if (WireError e = MapStatus(ReadConstrainedWholeNumber(in, kFieldDataMax, &length_minus_one),
                              WireError::kIfpBadFieldLength);
      e != WireError::kOk) {
    return e;
  }
  // 65535 in the 16-bit field would mean 65536 octets, above the SIZE bound.
  if (length_minus_one >= kFieldDataMax) return WireError::kIfpBadFieldLength;
  if (!in.ReadAlignedBytes(length_minus_one + 1, &field->data)) return WireError::kIfpTruncated;
  return WireError::kOk;
}

}  // namespace

WireError DecodeIfpPrefix(Bytes in, IfpVariant variant, IfpPacket* out, size_t* consumed) {
  BitReader r(in);
  bool has_data_field;
  bool is_data;
  if (!r.ReadBit(&has_data_field) || !r.ReadBit(&is_data)) return WireError::kIfpTruncated;
  uint32_t value;
  if (WireError e = ReadExtensibleEnum(r, is_data ? kDataRoot : kIndicatorRoot,
                                       WireError::kIfpBadType, &value);
      e != WireError::kOk) {
    return e;
  }
  out->kind = is_data ? IfpMsgKind::kData : IfpMsgKind::kIndicator;
  out->indicator = is_data ? T30Indicator::kNoSignal : static_cast<T30Indicator>(value);
  out->data_type = is_data ? static_cast<T30Data>(value) : T30Data::kV21;
  out->has_data_field = has_data_field;
  out->field_count = 0;
  if (has_data_field) {
    size_t count;
    if (WireError e = MapStatus(ReadPerLength(r, &count), WireError::kIfpTooManyFields);
        e != WireError::kOk) {
      return e;
    }
    if (count > kMaxIfpFields) return WireError::kIfpTooManyFields;
    for (size_t i = 0; i < count; ++i) {
      if (WireError e = ReadField(r, variant, &out->field_storage[i]); e != WireError::kOk) {
        return e;
      }
    }
    out->field_count = count;
  }
  if (WireError e = MapStatus(ReadPadding(r), WireError::kIfpTruncated); e != WireError::kOk) {
    return e;
  }
  *consumed = r.bit_offset() / 8;
  return WireError::kOk;
}

WireError DecodeIfp(Bytes in, IfpVariant variant, IfpPacket* out) {
  size_t consumed;
  if (WireError e = DecodeIfpPrefix(in, variant, out, &consumed); e != WireError::kOk) return e;
  return consumed == in.size() ? WireError::kOk : WireError::kIfpTrailingBytes;
}

WireError EncodeIfp(const IfpPacket& packet, IfpVariant variant, MutableBytes out,
                    size_t* written) {
  const bool is_data = packet.kind == IfpMsgKind::kData;
  const uint32_t root = is_data ? kDataRoot : kIndicatorRoot;
  const uint32_t value =
      is_data ? static_cast<uint32_t>(packet.data_type) : static_cast<uint32_t>(packet.indicator);
  if (value > root + kIfpMaxExtensionIndex) return WireError::kIfpBadType;
  if (packet.field_count > kMaxIfpFields) return WireError::kIfpTooManyFields;
  const uint32_t type_limit =
      variant == IfpVariant::k2002 ? kFieldTypeRoot + kIfpMaxExtensionIndex : kFieldTypeRoot - 1;
  for (const IfpField& f : packet.fields()) {
    if (static_cast<uint32_t>(f.type) > type_limit) return WireError::kIfpBadFieldType;
    if (f.has_data && (f.data.empty() || f.data.size() > kFieldDataMax)) {
      return WireError::kIfpBadFieldLength;
    }
  }

  BitWriter w(out);
  w.WriteBit(packet.has_data_field);
  w.WriteBit(is_data);
  WriteExtensibleEnum(w, root, value);
  if (packet.has_data_field) {
    WritePerLength(w, packet.field_count);
    for (const IfpField& f : packet.fields()) {
      w.WriteBit(f.has_data);
      if (variant == IfpVariant::k2002) {
        WriteExtensibleEnum(w, kFieldTypeRoot, static_cast<uint32_t>(f.type));
      } else {
        w.WriteBits(3, static_cast<uint32_t>(f.type));
      }
      if (f.has_data) {
        WriteConstrainedWholeNumber(w, kFieldDataMax, static_cast<uint32_t>(f.data.size() - 1));
        w.WriteAlignedBytes(f.data);
      }
    }
  }
  w.Align();
  // Every value was checked above, so the only way left to fail is running out of room.
  if (!w.ok()) return WireError::kIfpBufferTooSmall;
  *written = w.length();
  return WireError::kOk;
}

std::string_view T30IndicatorName(T30Indicator v) {
  return NameOf(kIndicatorNames, static_cast<uint32_t>(v));
}
std::string_view T30DataName(T30Data v) { return NameOf(kDataNames, static_cast<uint32_t>(v)); }
std::string_view IfpFieldTypeName(IfpFieldType v) {
  return NameOf(kFieldTypeNames, static_cast<uint32_t>(v));
}
std::string_view IfpTypeName(const IfpPacket& p) {
  return p.kind == IfpMsgKind::kData ? T30DataName(p.data_type) : T30IndicatorName(p.indicator);
}
std::optional<T30Indicator> FindT30Indicator(std::string_view name) {
  return Find<T30Indicator>(kIndicatorNames, name);
}
std::optional<T30Data> FindT30Data(std::string_view name) {
  return Find<T30Data>(kDataNames, name);
}
std::optional<IfpFieldType> FindIfpFieldType(std::string_view name) {
  return Find<IfpFieldType>(kFieldTypeNames, name);
}

IfpClass ClassifyIfp(const IfpPacket& p) {
  if (p.kind == IfpMsgKind::kIndicator) {
    switch (p.indicator) {
      case T30Indicator::kNoSignal:
        return IfpClass::kNoSignal;
      case T30Indicator::kCng:
        return IfpClass::kCng;
      case T30Indicator::kCed:
        return IfpClass::kCed;
      case T30Indicator::kV21Preamble:
        return IfpClass::kV21Preamble;
      case T30Indicator::kV8Ansam:
      case T30Indicator::kV8Signal:
      case T30Indicator::kV34CntlChannel1200:
      case T30Indicator::kV34PriChannel:
      case T30Indicator::kV34CcRetrain:
        return IfpClass::kOther;
      default:
        // The root values from v27-2400 up and the V.33 additions all announce a training.
        return p.indicator <= T30Indicator::kV33_14400Training ? IfpClass::kTraining
                                                               : IfpClass::kOther;
    }
  }
  for (const IfpField& f : p.fields()) {
    if (f.type >= IfpFieldType::kFirstExtension) return IfpClass::kOther;  // V.8 / V.34 messages
  }
  switch (p.data_type) {
    case T30Data::kV21:
    case T30Data::kV34Cc1200:
      return IfpClass::kHdlcControl;
    case T30Data::kV8:
    case T30Data::kV34PriRate:
      return IfpClass::kOther;
    default:
      // Image-rate modems carry page data: T.4 non-ECM chunks, or ECM frames as HDLC fields.
      return p.data_type <= T30Data::kV33_14400 ? IfpClass::kImageData : IfpClass::kOther;
  }
}

std::string_view IfpClassName(IfpClass c) { return NameOf(kClassNames, static_cast<uint32_t>(c)); }

}  // namespace t38relay::dataplane
