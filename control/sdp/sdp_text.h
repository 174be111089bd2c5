// Text helpers shared by the SDP parser and the attribute codecs (internal to control/sdp).
// Debian's Abseil has its own absl::string_view (not std::string_view), so the few string
// functions needed on std::string_view live here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace t38relay::control::sdp::internal {

template <typename T>
decltype(auto) ToAlphaNum(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_convertible_v<const T&, absl::string_view>) {
    std::string_view s = value;
    return absl::string_view(s.data(), s.size());
  } else {
    return (value);
  }
}

// absl::StrCat / StrAppend that also take std::string_view.
template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(ToAlphaNum(args)...);
}
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  absl::StrAppend(out, ToAlphaNum(args)...);
}

// "<attribute>: <what is wrong>", the form of every codec error.
inline absl::Status NamedError(std::string_view attribute, std::string_view what) {
  return absl::InvalidArgumentError(Cat(attribute, ": ", what));
}

// Pieces between separators `sep`; empty pieces dropped when skip_empty.
inline std::vector<std::string_view> Split(std::string_view s, char sep, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  for (;;) {
    size_t end = s.find(sep, pos);
    std::string_view piece = s.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (!skip_empty || !piece.empty()) out.push_back(piece);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return out;
}

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Words separated by runs of spaces or tabs.
inline std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsBlank(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsBlank(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

inline std::string_view StripLeadingBlanks(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  return s;
}
inline std::string_view StripBlanks(std::string_view s) {
  s = StripLeadingBlanks(s);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(x) == absl::ascii_tolower(y);
         });
}

inline std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(c);
  return out;
}

inline bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// RFC 8866 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E
inline bool IsTokenChar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d ||
         c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
         (c >= 0x5e && c <= 0x7e);
}

inline bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// RFC 8839 ice-char = ALPHA / DIGIT / "+" / "/"
inline bool IsIceChar(char c) { return absl::ascii_isalnum(c) || c == '+' || c == '/'; }

inline bool IsDigits(std::string_view s, size_t max_len) {
  return !s.empty() && s.size() <= max_len &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// Plain decimal digits (no sign, no blanks, at most 20) as a 64-bit number; nullopt on overflow.
inline std::optional<uint64_t> ParseDecimal64(std::string_view s) {
  if (!IsDigits(s, 20)) return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  return n;
}

// Plain decimal digits with a value <= max; nullopt otherwise.
inline std::optional<uint32_t> ParseDecimal(std::string_view s, uint32_t max) {
  std::optional<uint64_t> n = ParseDecimal64(s);
  if (!n || *n > max) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

}  // namespace t38relay::control::sdp::internal
