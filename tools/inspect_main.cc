// t38relay-inspect: decodes captured or hex UDP datagrams (STUN, DTLS, UDPTL/T.38) to JSON lines.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "tools/inspector.h"
#include "tools/pcap_reader.h"

namespace t38relay::tools {
namespace {

constexpr auto kJsonErrors = nlohmann::detail::error_handler_t::replace;

void Print(const Json& j) { std::cout << j.dump(-1, ' ', false, kJsonErrors) << '\n'; }

int InspectPcap(const std::string& path, Inspector& inspector, bool summary_only) {
  auto reader = PcapReader::Open(path);
  if (!reader.ok()) {
    std::cerr << "t38relay-inspect: " << reader.status().message() << '\n';
    return 1;
  }
  PcapFrame frame;
  while (true) {
    auto more = (*reader)->Next(&frame);
    if (!more.ok()) {
      std::cerr << "t38relay-inspect: " << more.status().message() << '\n';
      return 1;
    }
    if (!*more) break;
    std::optional<Json> packet = inspector.InspectFrame(frame);
    if (packet && !summary_only) Print(*packet);
  }
  if (summary_only) Print(inspector.Summary());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "Decodes UDP datagrams with t38relay's wire codecs and prints one JSON object per datagram:\n"
      "STUN (RFC 8489/5389/3489), DTLS records (RFC 6347), UDPTL and T.38 IFPs (T.38 clause 9).\n"
      "Datagrams are told apart by their first byte (RFC 7983); plain UDPTL has no signature,\n"
      "so name its ports with --port.",
      "t38relay-inspect"};
  std::string pcap;
  std::string hex;
  std::vector<uint16_t> ports;
  std::string password;
  std::string long_term;
  std::string asn1 = "1998";
  bool summary = false;
  bool hex_udptl = false;
  bool check_checksums = false;
  auto* pcap_opt = app.add_option("--pcap", pcap, "pcap or pcapng file to decode");
  auto* hex_opt = app.add_option("--hex", hex, "one UDP payload as hex (spaces and colons allowed)");
  pcap_opt->excludes(hex_opt);
  app.add_option("--port", ports, "UDP port whose datagrams (to or from it) are UDPTL; repeatable")
      ->check(CLI::Range(1, 65535));
  auto* pw = app.add_option("--stun-password", password,
                            "STUN short-term password: checks MESSAGE-INTEGRITY(-SHA256)");
  auto* lt = app.add_option("--stun-long-term", long_term,
                            "STUN long-term credentials USER:REALM:PASS (password SASLprep'd)");
  pw->excludes(lt);
  app.add_option("--t38-asn1", asn1,
                 "T.38 ASN.1 module of the IFPs: 1998 (pre-corrigendum, spandsp/tshark default) "
                 "or 2002")
      ->check(CLI::IsMember({"1998", "2002"}));
  app.add_flag("--check-checksums", check_checksums,
               "report bad IPv4/UDP checksums as errors (off: offload leaves them bad in "
               "captures taken on the sender)");
  app.add_flag("--udptl", hex_udptl, "with --hex: decode the payload as UDPTL");
  app.add_flag("--summary", summary,
               "print only counts per kind, per error and per T.38 class (one JSON object)");
  CLI11_PARSE(app, argc, argv);
  if (pcap.empty() && hex.empty()) {
    std::cerr << "t38relay-inspect: give --pcap FILE or --hex HEX (see --help)\n";
    return 2;
  }

  InspectorOptions options;
  options.udptl_ports = ports;
  options.check_checksums = check_checksums;
  if (!password.empty()) options.stun_password = password;
  if (!long_term.empty()) {
    std::vector<std::string> parts = absl::StrSplit(long_term, absl::MaxSplits(':', 2));
    if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) {
      std::cerr << "t38relay-inspect: --stun-long-term must be USER:REALM:PASS\n";
      return 2;
    }
    options.stun_long_term = InspectorOptions::LongTerm{parts[0], parts[1], parts[2]};
  }
  options.ifp_variant = asn1 == "2002" ? dataplane::IfpVariant::k2002 : dataplane::IfpVariant::k1998;
  Inspector inspector(std::move(options));

  if (!pcap.empty()) return InspectPcap(pcap, inspector, summary);

  std::string clean;
  for (char c : hex) {
    if (c != ' ' && c != ':' && c != '\n' && c != '\t') clean.push_back(c);
  }
  if (clean.empty() || clean.size() % 2 != 0 ||
      clean.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    std::cerr << "t38relay-inspect: --hex is not an even number of hex digits\n";
    return 2;
  }
  const std::string bytes = absl::HexStringToBytes(absl::string_view(clean));
  const Json packet = inspector.InspectDatagram(
      dataplane::Bytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), hex_udptl);
  Print(summary ? inspector.Summary() : packet);
  return 0;
}

}  // namespace
}  // namespace t38relay::tools

int main(int argc, char** argv) { return t38relay::tools::Main(argc, argv); }
