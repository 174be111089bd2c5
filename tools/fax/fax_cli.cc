// t38relay-fax argument parsing (CLI11), the checks CLI11 cannot express, and the outputs.
#include "tools/fax/fax_cli.h"

#include <ostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "tools/fax/fax_endpoint.h"
#include "tools/fax/tiff_compare.h"
#include "tools/fax/transport.h"
#include "tools/fax/udptl_channel.h"

namespace t38relay::tools::fax {

namespace {

constexpr auto kJsonErrors = nlohmann::ordered_json::error_handler_t::replace;

int Usage(std::ostream& err, std::string_view message) {
  err << "t38relay-fax: " << message << " (see t38relay-fax --help)\n";
  return 2;
}

int RunCompare(const std::string& a, const std::string& b, std::ostream& out, std::ostream& err) {
  absl::StatusOr<TiffComparison> c = CompareFaxTiffs(a, b);
  if (!c.ok()) {
    err << "t38relay-fax: compare: " << c.status().message() << "\n";
    return 2;
  }
  for (const std::string& note : c->notes) err << "t38relay-fax: " << note << "\n";
  out << ComparisonToJson(*c).dump(-1, ' ', false, kJsonErrors) << "\n";
  return c->identical ? 0 : 1;
}

}  // namespace

int RunFaxCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
              const volatile std::sig_atomic_t* interrupted) {
  CLI::App app{
      "A T.38 fax endpoint (spandsp) over UDPTL, in DTLS 1.2 (RFC 7345) or in the clear. It\n"
      "writes its SDP offer or answer to a file and reads the other side's from another, so\n"
      "two endpoints, or t38ctl between them, can meet. The last line on stdout is one JSON\n"
      "object with the result.",
      "t38relay-fax"};
  app.require_subcommand(1);
  CLI::App* send = app.add_subcommand("send", "send a TIFF as the calling fax machine");
  CLI::App* receive = app.add_subcommand("receive", "receive a fax into a TIFF");
  CLI::App* compare = app.add_subcommand(
      "compare", "decode two TIFFs and compare page count and every page's pixels");

  EndpointOptions options;
  options.interrupted = interrupted;
  std::string local, transport = "dtls", setup, ec = "redundancy", identity_key = "rsa";
  std::string compare_a, compare_b;
  send->add_option("--tiff", options.tiff, "the TIFF to send")->required();
  receive->add_option("--tiff-out", options.tiff, "where the received TIFF is written")
      ->required();
  compare->add_option("a", compare_a, "first TIFF")->required();
  compare->add_option("b", compare_b, "second TIFF")->required();
  for (CLI::App* sub : {send, receive}) {
    sub->add_option("--local", local, "UDP address to bind, IP:PORT or [IPv6]:PORT")->required();
    sub->add_option("--transport", transport,
                    "dtls (UDP/TLS/UDPTL, RFC 7345) or plain (udptl); default dtls")
        ->check(CLI::IsMember({"dtls", "plain"}));
    sub->add_option("--offer-out", options.offer_out,
                    "offerer: write our SDP offer here (FILE.tmp, then renamed)");
    sub->add_option("--answer-in", options.answer_in, "offerer: wait for the answer here");
    sub->add_option("--offer-in", options.offer_in, "answerer: wait for the offer here");
    sub->add_option("--answer-out", options.answer_out, "answerer: write our SDP answer here");
    sub->add_option("--setup", setup,
                    "our a=setup: offer default actpass; answer default active for an actpass "
                    "or passive offer, passive for an active one")
        ->check(CLI::IsMember({"actpass", "active", "passive"}));
    sub->add_option("--ec", ec,
                    "T38FaxUdpEC we offer: none, redundancy (default) or fec; an answerer takes "
                    "the offer's")
        ->check(CLI::IsMember({"none", "redundancy", "fec"}));
    sub->add_option("--ec-depth", options.ec_depth,
                    "redundancy depth, or FEC entries and span (default 3)")
        ->check(CLI::Range(1u, static_cast<unsigned>(kMaxRedundancyDepth)));
    sub->add_flag("--ecm,!--no-ecm", options.ecm, "T.30 error correction mode (default on)");
    sub->add_option("--keylog", options.keylog,
                    "append the DTLS keys here (SSLKEYLOGFILE CLIENT_RANDOM lines)");
    sub->add_option("--timeout", options.timeout_s,
                    "seconds the whole fax may take (default 180)")
        ->check(CLI::Range(1.0, 86400.0));
    sub->add_option("--sdp-wait", options.sdp_wait_s,
                    "seconds to wait for the other side's SDP file (default 60)")
        ->check(CLI::Range(0.1, 86400.0));
    sub->add_option("--identity-key", identity_key,
                    "key of our fresh DTLS certificate: rsa (RSA-2048, default, as the relay) "
                    "or ecdsa (P-256)")
        ->check(CLI::IsMember({"rsa", "ecdsa"}));
    sub->add_flag("--verbose,-v", options.verbose, "spandsp's T.30 dialogue on stderr");
  }
  // CLI11 takes argv-style input; keep the strings alive for the pointers.
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("t38relay-fax");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const std::string& s : storage) argv.push_back(s.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);
    return Usage(err, e.what());
  }

  if (compare->parsed()) return RunCompare(compare_a, compare_b, out, err);

  options.role = send->parsed() ? FaxRole::kSend : FaxRole::kReceive;
  absl::StatusOr<dataplane::SocketAddress> address = ParseSocketAddress(local);
  if (!address.ok()) return Usage(err, absl::StrCat("--local: ", address.status().message()));
  if (address->ip == dataplane::IpAddress{address->ip.family, {}}) {
    return Usage(err, "--local: give the address to put in the SDP, not an unspecified one");
  }
  options.local = *address;
  options.transport = transport == "plain" ? Proto::kPlain : Proto::kDtls;
  const bool offerer = !options.offer_out.empty() || !options.answer_in.empty();
  const bool answerer = !options.offer_in.empty() || !options.answer_out.empty();
  if (offerer == answerer) {
    return Usage(err, "give either --offer-out FILE --answer-in FILE (offerer) or --offer-in "
                      "FILE --answer-out FILE (answerer)");
  }
  if (offerer && (options.offer_out.empty() || options.answer_in.empty())) {
    return Usage(err, "the offerer needs both --offer-out FILE and --answer-in FILE");
  }
  if (answerer && (options.offer_in.empty() || options.answer_out.empty())) {
    return Usage(err, "the answerer needs both --offer-in FILE and --answer-out FILE");
  }
  for (const std::string* file :
       {&options.offer_out, &options.answer_in, &options.offer_in, &options.answer_out}) {
    if (*file == "-") {
      return Usage(err, "'-' is not allowed: the SDP files are the rendezvous of both sides");
    }
  }
  if (!setup.empty()) {
    if (answerer && setup == "actpass") {
      return Usage(err, "--setup actpass: an answer says active or passive (RFC 4145)");
    }
    options.setup = setup == "active"    ? dataplane::DtlsSetup::kActive
                    : setup == "passive" ? dataplane::DtlsSetup::kPassive
                                         : dataplane::DtlsSetup::kActpass;
  }
  if (ec == "none") {
    options.ec = control::sdp::T38UdpEc::kNone;
  } else if (ec == "redundancy") {
    options.ec = control::sdp::T38UdpEc::kRedundancy;
  } else if (ec == "fec") {
    options.ec = control::sdp::T38UdpEc::kFec;
  } else {
    return Usage(err, absl::StrCat("--ec: '", ec, "' is not none, redundancy or fec"));
  }
  if (options.ec == control::sdp::T38UdpEc::kFec && options.ec_depth > kMaxFecDepth) {
    return Usage(err, absl::StrCat("--ec-depth: FEC takes at most ", kMaxFecDepth,
                                   " entries (UDPTL codec limit)"));
  }
  options.key_type =
      identity_key == "ecdsa" ? crypto::KeyType::kEcdsaP256 : crypto::KeyType::kRsa2048;

  EndpointResult result = RunEndpoint(options, err);
  if (result.exit_code == 2) {
    err << "t38relay-fax: " << result.setup_error << "\n";
    return 2;
  }
  if (!result.error.empty()) err << "t38relay-fax: error: " << result.error << "\n";
  out << EndpointResultToJson(result).dump(-1, ' ', false, kJsonErrors) << "\n" << std::flush;
  return result.exit_code;
}

}  // namespace t38relay::tools::fax
