// CallManager: offers/answers -> linked dataplane legs, with rollback, re-offers, events, idle
// cleanup and recovery from leg labels.
#include "control/calls/call_manager.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "control/api/control_protocol.h"
#include "dataplane/flowsock/protocol.h"

namespace t38relay::control::calls {
namespace {

using dataplane::DtlsSetup;
using dataplane::LegTransport;
using offer_answer::LocalStream;
using offer_answer::PeerStream;
using offer_answer::Proto;

constexpr size_t kIceUfragLength = 16;

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
std::string PN(Proto proto) { return std::string(offer_answer::ProtoName(proto)); }
constexpr size_t kIcePwdLength = 24;

PeerState PeerFromStream(const PeerStream& s) {
  PeerState p;
  p.known = true;
  p.proto = s.proto;
  p.remote = s.remote;
  p.family = s.family;
  p.setup = s.setup;
  p.fingerprints = s.fingerprints;
  p.tls_id = s.tls_id;
  p.ice = s.ice;
  return p;
}

const PeerStream* FindPeerStream(const offer_answer::PeerSdp& sdp, size_t index) {
  for (const PeerStream& s : sdp.streams) {
    if (s.index == index) return &s;
  }
  return nullptr;
}

Stream* FindStream(Call& call, size_t index) {
  for (Stream& s : call.streams) {
    if (s.index == index) return &s;
  }
  return nullptr;
}

// Our ICE-lite credentials for a leg whose peer uses ICE.
offer_answer::PeerIce NewIce() {
  return {offer_answer::RandomIceChars(kIceUfragLength),
          offer_answer::RandomIceChars(kIcePwdLength)};
}

dataplane::IceCredentials IceFor(const offer_answer::PeerIce& ours,
                                 const std::optional<offer_answer::PeerIce>& peer) {
  return {ours.ufrag, ours.pwd, peer.has_value() ? peer->ufrag : std::string()};
}

void AppendLegs(const Association& a, std::vector<uint64_t>* out) {
  for (const RelayLeg& l : a.legs) {
    if (l.id != 0) out->push_back(l.id);
  }
}

bool AllDtlsEstablished(const Association& a) {
  for (const RelayLeg& l : a.legs) {
    if (l.transport == LegTransport::kDtls && l.state != dataplane::LegState::kEstablished) {
      return false;
    }
  }
  return true;
}

}  // namespace

// The dataplane changes of one request, undone in reverse order when the request fails: added
// legs are deleted, updated legs get their previous values back. Deletions of old legs are
// deferred to Commit so that a failed request leaves the existing call as it was.
class CallManager::Transaction {
 public:
  explicit Transaction(dataplane::FlowService* flow) : flow_(flow) {}
  ~Transaction() {
    if (committed_) return;
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
  }
  absl::StatusOr<dataplane::LegAddResult> Add(const dataplane::LegAddRequest& request) {
    absl::StatusOr<dataplane::LegAddResult> r = flow_->AddLeg(request);
    if (r.ok()) {
      uint64_t id = r->leg;
      undo_.push_back([this, id] { flow_->DeleteLeg(id).IgnoreError(); });
    }
    return r;
  }
  absl::Status Update(const dataplane::LegUpdateRequest& request,
                      std::optional<dataplane::LegUpdateRequest> undo) {
    absl::Status s = flow_->UpdateLeg(request);
    if (s.ok() && undo.has_value()) {
      undo_.push_back([this, u = *undo] { flow_->UpdateLeg(u).IgnoreError(); });
    }
    return s;
  }
  absl::Status Link(uint64_t a, uint64_t b) { return flow_->LinkLegs(a, b); }
  void DeleteOnCommit(uint64_t leg) { deletes_.push_back(leg); }
  // Forgets an association now; its legs go at Commit.
  void DropOnCommit(std::optional<Association>* association) {
    if (!association->has_value()) return;
    AppendLegs(**association, &deletes_);
    association->reset();
  }
  void Commit() {
    committed_ = true;
    for (uint64_t leg : deletes_) flow_->DeleteLeg(leg).IgnoreError();
  }

 private:
  dataplane::FlowService* flow_;
  std::vector<std::function<void()>> undo_;
  std::vector<uint64_t> deletes_;
  bool committed_ = false;
};

CallManager::CallManager(Options options, dataplane::FlowService* flow)
    : options_(std::move(options)), flow_(flow) {}

void CallManager::SetFlowService(dataplane::FlowService* flow) { flow_ = flow; }

int64_t CallManager::Now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CallManager::Log(std::string_view line) const {
  if (options_.log) options_.log(line);
}

absl::Status CallManager::Count(absl::Status status) {
  if (!status.ok()) {
    ++errors_[std::string(dataplane::ErrorCodeName(dataplane::ErrorCodeFromStatus(status)))];
  }
  return status;
}

absl::StatusOr<std::string> CallManager::Finish(absl::StatusOr<std::string> result,
                                                std::string_view what, std::string_view call_id,
                                                uint64_t* counter) {
  if (!result.ok()) {
    Count(result.status()).IgnoreError();
    Log(absl::StrCat("call ", std::string(call_id), ": ", std::string(what),
                     " refused: ", result.status().message()));
  } else {
    ++*counter;
  }
  return result;
}

absl::StatusOr<std::string> CallManager::Offer(const OfferRequest& request) {
  return Finish(DoOffer(request), "offer", request.call_id, &offers_);
}

absl::StatusOr<std::string> CallManager::Answer(const AnswerRequest& request) {
  return Finish(DoAnswer(request), "answer", request.call_id, &answers_);
}

absl::StatusOr<std::string> CallManager::DoOffer(const OfferRequest& request) {
  if (flow_ == nullptr) {
    return absl::UnavailableError("the dataplane is not reachable yet; retry in a moment");
  }
  absl::StatusOr<offer_answer::PeerSdp> offer =
      offer_answer::ReadPeerSdp(request.body, offer_answer::SdpRole::kOffer);
  if (!offer.ok()) return offer.status();

  Transaction tx(flow_);
  auto found = calls_.find(request.call_id);
  const bool is_new = found == calls_.end();
  Call work;
  Side s = Side::kCaller;
  if (is_new) {
    work.call_id = request.call_id;
    work.tags[0] = request.from_tag;
    work.created = Now();
    work.policy = request.transport;
    work.anonymous = request.anonymous;
  } else {
    work = found->second;
    if (work.tags[0] == request.from_tag) {
      s = Side::kCaller;
    } else if (!work.tags[1].empty() && work.tags[1] == request.from_tag) {
      s = Side::kCallee;
    } else {
      return absl::FailedPreconditionError(absl::StrCat(
          "call ", request.call_id, " exists with from-tag ", work.tags[0],
          (work.tags[1].empty() ? "" : absl::StrCat(" / to-tag ", work.tags[1])),
          "; a re-offer must come from one of them (delete the call to start over)"));
    }
    if (work.state == CallState::kFailed && work.failure.rfind("lost", 0) == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "call ", request.call_id, " was lost when the dataplane restarted; delete it"));
    }
    // An offer that replaces an unanswered one (a 488 and a new offer, a retry): what the
    // unanswered offer created goes; the call's answered state stays.
    if (work.offer_from.has_value()) {
      for (Stream& stream : work.streams) {
        tx.DropOnCommit(&stream.pending);
        if (work.state == CallState::kOffered) tx.DropOnCommit(&stream.current);
      }
      if (work.state == CallState::kOffered) {
        work.streams.clear();
      }
    }
  }
  const Side t = Other(s);
  if (work.origin[Index(Side::kCaller)].session_id.empty()) {
    work.origin[Index(Side::kCaller)] = {offer_answer::RandomSessionId(), 0};
  }
  if (work.origin[Index(Side::kCallee)].session_id.empty()) {
    work.origin[Index(Side::kCallee)] = {offer_answer::RandomSessionId(), 0};
  }
  work.offer_from = s;
  work.offer_media_count = offer->session.media.size();
  work.last_activity = Now();

  std::vector<LocalStream> out;
  std::set<size_t> offered;
  for (const PeerStream& ps : offer->streams) {
    if (ps.port == 0) continue;
    offered.insert(ps.index);
    Stream* stream = FindStream(work, ps.index);
    if (stream == nullptr) {
      work.streams.push_back(Stream{});
      stream = &work.streams.back();
      stream->index = ps.index;
    }
    const PeerState offerer = PeerFromStream(ps);
    Proto answer_proto = ps.proto;
    bool plain_fallback = false;
    if (t == Side::kCallee) {
      switch (work.policy) {
        case TransportPolicy::kAsOffered: answer_proto = ps.proto; break;
        case TransportPolicy::kDtls: answer_proto = Proto::kDtls; break;
        case TransportPolicy::kPlain: answer_proto = Proto::kPlain; break;
        case TransportPolicy::kPreferDtls:
          answer_proto = work.dtls_refused ? Proto::kPlain : Proto::kDtls;
          plain_fallback = !work.dtls_refused;
          break;
      }
    } else if (stream->peer[Index(t)].known) {
      answer_proto = stream->peer[Index(t)].proto;  // the caller keeps what it negotiated
    }
    const LegTransport offer_transport = offer_answer::TransportOf(ps.proto);
    const LegTransport answer_transport = offer_answer::TransportOf(answer_proto);

    // RFC 7345 section 4.5 / RFC 8842: unchanged fingerprints, transport and tls-id (and ICE
    // credentials: a change is an ICE restart, section 5.2.1) keep the DTLS association.
    // Compared with the newest association: a new one still waiting for its handshakes counts.
    const PeerState& before = stream->peer[Index(s)];
    Association* newest = stream->pending.has_value()   ? &*stream->pending
                          : stream->current.has_value() ? &*stream->current
                                                        : nullptr;
    bool keep = newest != nullptr && before.known &&
                newest->legs[Index(s)].transport == offer_transport &&
                newest->legs[Index(t)].transport == answer_transport &&
                before.fingerprints == offerer.fingerprints && before.tls_id == offerer.tls_id &&
                before.ice == offerer.ice &&
                newest->legs[Index(s)].local.ip.family == offerer.family;
    stream->peer[Index(s)] = offerer;
    if (keep) {
      RelayLeg& leg = newest->legs[Index(s)];
      if (offerer.remote.has_value() && offerer.remote != leg.remote) {
        dataplane::LegUpdateRequest update;
        update.leg = leg.id;
        update.remote = offerer.remote;
        std::optional<dataplane::LegUpdateRequest> undo;
        if (leg.remote.has_value()) {
          undo.emplace();
          undo->leg = leg.id;
          undo->remote = leg.remote;
        }
        if (absl::Status st = tx.Update(update, undo); !st.ok()) return st;
        Log(absl::StrCat("call ", work.call_id, ": ", std::string(SideName(s)), " media moved to ",
                         offerer.remote->ToString()));
        leg.remote = offerer.remote;
      }
    } else {
      Association a;
      a.generation = stream->next_generation++;
      RelayLeg& facing = a.legs[Index(s)];
      RelayLeg& other = a.legs[Index(t)];
      // The leg facing the offerer.
      dataplane::LegAddRequest add;
      add.transport = offer_transport;
      add.family = offerer.family;
      add.remote = offerer.remote;
      if (offer_transport == LegTransport::kDtls) {
        add.setup = offer_answer::AnswerSetupFor(offerer.setup);
        add.remote_setup = offerer.setup.value_or(DtlsSetup::kActive);
        add.fingerprints = offerer.fingerprints;
        add.anonymous = work.anonymous;
        facing.tls_id = offer_answer::RandomTlsId();
      }
      if (offerer.ice.has_value()) {
        facing.ice = NewIce();
        add.ice = IceFor(*facing.ice, offerer.ice);
      }
      // Books the request in `a` (so the label describes the leg), then adds it.
      auto add_leg = [&](dataplane::LegAddRequest& request, Side side) -> absl::Status {
        RelayLeg& leg = a.legs[Index(side)];
        leg.transport = request.transport;
        leg.setup = request.setup;
        leg.remote = request.remote;
        leg.state = request.transport == LegTransport::kDtls ? dataplane::LegState::kWaiting
                                                             : dataplane::LegState::kPlain;
        request.label = EncodeLabel(work, *stream, a, stream->current.has_value(), side);
        absl::StatusOr<dataplane::LegAddResult> r = tx.Add(request);
        if (!r.ok()) return r.status();
        leg.id = r->leg;
        leg.local = r->local;
        leg.fingerprint = r->fingerprint;
        leg.label = request.label;
        return absl::OkStatus();
      };
      if (absl::Status st = add_leg(add, s); !st.ok()) return st;

      // The leg facing the answerer: its address comes with the answer.
      const PeerState& known = stream->peer[Index(t)];
      dataplane::LegAddRequest add2;
      add2.transport = answer_transport;
      add2.family = known.known ? known.family : offerer.family;
      if (answer_transport == LegTransport::kDtls) {
        add2.setup = options_.offer_setup;
        add2.anonymous = work.anonymous;
        other.tls_id = offer_answer::RandomTlsId();
      }
      if (known.known && known.ice.has_value()) {
        other.ice = NewIce();
        add2.ice = IceFor(*other.ice, std::nullopt);
      }
      if (absl::Status st = add_leg(add2, t); !st.ok()) return st;
      if (absl::Status st = tx.Link(facing.id, other.id); !st.ok()) return st;
      // A pending association superseded before it came up goes with this request.
      tx.DropOnCommit(&stream->pending);
      if (stream->current.has_value()) {
        stream->pending = std::move(a);
      } else {
        stream->current = std::move(a);
      }
    }
    const Association& target = stream->pending.has_value() ? *stream->pending : *stream->current;
    const RelayLeg& facing = target.legs[Index(s)];
    const RelayLeg& other = target.legs[Index(t)];
    LocalStream ls;
    ls.index = ps.index;
    ls.proto = offer_answer::ProtoOf(other.transport);
    ls.port = other.local.port;
    ls.address = other.local.ip;
    ls.fingerprint = other.fingerprint;
    ls.setup = other.setup;
    ls.tls_id = other.tls_id;
    ls.ice = other.ice;
    ls.t38 = ps.t38;
    offer_answer::LowerMaxDatagram(facing.transport == LegTransport::kDtls,
                                   facing.local.ip.family, options_.mtu, &ls.t38);
    ls.dtls_potential = plain_fallback && other.transport == LegTransport::kDtls;
    out.push_back(std::move(ls));
  }
  // Streams the offer no longer has (port 0, or the m= line reused for something else) go.
  for (auto it = work.streams.begin(); it != work.streams.end();) {
    if (offered.count(it->index) != 0) {
      ++it;
      continue;
    }
    std::vector<uint64_t> ids;
    if (it->current.has_value()) AppendLegs(*it->current, &ids);
    if (it->pending.has_value()) AppendLegs(*it->pending, &ids);
    for (uint64_t id : ids) tx.DeleteOnCommit(id);
    if (it->index < offer->session.media.size()) {
      LocalStream ls;
      ls.index = it->index;
      ls.port = 0;
      const std::string& proto = offer->session.media[it->index].proto;
      ls.proto = proto == "UDP/TLS/UDPTL" ? Proto::kDtls : Proto::kPlain;
      if (offer->session.media[it->index].media == "image") out.push_back(ls);
    }
    it = work.streams.erase(it);
  }
  offer_answer::OriginState& origin = work.origin[Index(t)];
  ++origin.version;
  std::string sdp = offer_answer::WriteRelaySdp(offer->session, out, origin);

  tx.Commit();
  if (!is_new) Unindex(found->second);
  Call& stored = calls_[work.call_id];
  stored = std::move(work);
  Reindex(stored);
  SyncLabels(stored);
  Log(absl::StrCat("call ", stored.call_id, ": ", is_new ? "offer" : "re-offer", " from ",
                   std::string(SideName(s)), ", ", stored.streams.size(), " T.38 stream(s)"));
  return sdp;
}

absl::StatusOr<std::string> CallManager::DoAnswer(const AnswerRequest& request) {
  if (flow_ == nullptr) {
    return absl::UnavailableError("the dataplane is not reachable yet; retry in a moment");
  }
  auto found = calls_.find(request.call_id);
  if (found == calls_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no call with call-id ", request.call_id, " (send its offer first)"));
  }
  if (!found->second.offer_from.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("call ", request.call_id, " has no offer waiting for an answer"));
  }
  Call work = found->second;
  const Side s = *work.offer_from;
  const Side t = Other(s);
  if (work.tags[Index(s)] != request.from_tag) {
    return absl::NotFoundError(absl::StrCat("call ", request.call_id, " has no offer with from-tag ",
                                            request.from_tag, " (the offer came from ",
                                            work.tags[Index(s)], ")"));
  }
  if (!work.tags[Index(t)].empty() && work.tags[Index(t)] != request.to_tag) {
    return absl::FailedPreconditionError(absl::StrCat(
        "call ", request.call_id, " is answered with to-tag ", work.tags[Index(t)],
        "; a second dialog (to-tag ", request.to_tag, ", a forked answer) is not supported"));
  }
  absl::StatusOr<offer_answer::PeerSdp> answer =
      offer_answer::ReadPeerSdp(request.body, offer_answer::SdpRole::kAnswer);
  if (!answer.ok()) return answer.status();
  if (answer->session.media.size() != work.offer_media_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "answer: it has ", answer->session.media.size(), " m= lines but the offer had ",
        work.offer_media_count, " (RFC 3264 section 6: one per offered m= line, in order)"));
  }
  work.tags[Index(t)] = request.to_tag;
  Transaction tx(flow_);
  std::vector<LocalStream> out;
  for (auto it = work.streams.begin(); it != work.streams.end();) {
    Stream& stream = *it;
    Association& target = stream.pending.has_value() ? *stream.pending : *stream.current;
    RelayLeg& facing = target.legs[Index(s)];
    RelayLeg& other = target.legs[Index(t)];
    const PeerStream* as = FindPeerStream(*answer, stream.index);
    LocalStream ls;
    ls.index = stream.index;
    ls.proto = offer_answer::ProtoOf(facing.transport);
    if (as == nullptr || as->port == 0) {
      // Rejected (RFC 3264 section 6: port 0). prefer-dtls remembers that the callee refused
      // DTLS, so the next offer goes plain towards it (RFC 7345 section 5.4's second way).
      if (t == Side::kCallee && work.policy == TransportPolicy::kPreferDtls &&
          other.transport == LegTransport::kDtls) {
        work.dtls_refused = true;
      }
      std::vector<uint64_t> ids;
      AppendLegs(target, &ids);
      if (stream.pending.has_value() && stream.current.has_value()) {
        AppendLegs(*stream.current, &ids);
      }
      for (uint64_t id : ids) tx.DeleteOnCommit(id);
      ls.port = 0;
      out.push_back(ls);
      Log(absl::StrCat("call ", work.call_id, ": stream ", stream.index, " rejected by the ",
                       std::string(SideName(t))));
      it = work.streams.erase(it);
      continue;
    }
    const LegTransport answered = offer_answer::TransportOf(as->proto);
    if (answered != other.transport) {
      const bool fallback = other.transport == LegTransport::kDtls &&
                            answered == LegTransport::kPlain && t == Side::kCallee &&
                            work.policy == TransportPolicy::kPreferDtls;
      if (!fallback) {
        return absl::InvalidArgumentError(absl::StrCat(
            "answer: m= line ", stream.index + 1, " proto ", PN(as->proto),
            " does not match the offered ", PN(
                                                offer_answer::ProtoOf(other.transport))));
      }
      // The answerer took the actual configuration (udptl) rather than the UDP/TLS/UDPTL
      // potential one: the callee leg turns plain on the port the offer gave it.
      work.dtls_refused = true;
      dataplane::LegUpdateRequest update;
      update.leg = other.id;
      update.transport = LegTransport::kPlain;
      update.remote = as->remote;
      dataplane::LegUpdateRequest undo;
      undo.leg = other.id;
      undo.transport = LegTransport::kDtls;
      undo.remote = other.remote;
      if (absl::Status st = tx.Update(update, undo); !st.ok()) return st;
      Log(absl::StrCat("call ", work.call_id, ": the callee refused UDP/TLS/UDPTL; stream ",
                       stream.index, " falls back to udptl"));
      other.transport = LegTransport::kPlain;
      other.state = dataplane::LegState::kPlain;
      other.fingerprint.reset();
      other.tls_id.clear();
      if (as->remote.has_value()) other.remote = as->remote;
    } else {
      dataplane::LegUpdateRequest update;
      update.leg = other.id;
      dataplane::LegUpdateRequest undo;
      undo.leg = other.id;
      const PeerState& before = stream.peer[Index(t)];
      if (as->remote.has_value()) {
        update.remote = as->remote;
        if (other.remote.has_value()) undo.remote = other.remote;
      }
      if (other.transport == LegTransport::kDtls) {
        const DtlsSetup answered_setup = as->setup.value_or(DtlsSetup::kActive);
        if (other.setup != DtlsSetup::kActpass && answered_setup == other.setup) {
          return absl::InvalidArgumentError(absl::StrCat(
              "answer: m= line ", stream.index + 1, " says a=setup:",
              std::string(dataplane::SetupName(answered_setup)), " but the offer said ",
              std::string(dataplane::SetupName(other.setup)), "; one side must be active, the other passive"));
        }
        update.remote_setup = answered_setup;
        update.fingerprints = as->fingerprints;
        if (before.known) {
          if (before.setup.has_value()) undo.remote_setup = before.setup;
          undo.fingerprints = before.fingerprints;
        }
      }
      if (other.ice.has_value() && as->ice.has_value()) {
        update.ice = IceFor(*other.ice, as->ice);
      }
      std::optional<dataplane::LegUpdateRequest> undo_opt;
      if (undo.remote || undo.remote_setup || undo.fingerprints) undo_opt = undo;
      if (absl::Status st = tx.Update(update, undo_opt); !st.ok()) return st;
      if (as->remote.has_value()) other.remote = as->remote;
    }
    stream.peer[Index(t)] = PeerFromStream(*as);
    ls.port = facing.local.port;
    ls.address = facing.local.ip;
    ls.fingerprint = facing.fingerprint;
    ls.setup = facing.setup;
    ls.tls_id = facing.tls_id;
    ls.ice = facing.ice;
    ls.t38 = as->t38;
    offer_answer::LowerMaxDatagram(other.transport == LegTransport::kDtls, other.local.ip.family,
                                   options_.mtu, &ls.t38);
    out.push_back(std::move(ls));
    ++it;
  }
  offer_answer::OriginState& origin = work.origin[Index(s)];
  ++origin.version;
  std::string sdp = offer_answer::WriteRelaySdp(answer->session, out, origin);
  work.offer_from.reset();
  if (work.state != CallState::kFailed) work.state = CallState::kAnswered;
  work.last_activity = Now();

  tx.Commit();
  Unindex(found->second);
  Call& stored = found->second;
  stored = std::move(work);
  Reindex(stored);
  for (Stream& stream : stored.streams) {
    // A plain new association is up at once; a DTLS one once its handshakes are done.
    if (stream.pending.has_value() && AllDtlsEstablished(*stream.pending)) {
      Promote(stored, stream);
    }
  }
  SyncLabels(stored);
  Log(absl::StrCat("call ", stored.call_id, ": answered by the ", std::string(SideName(t)), " (to-tag ",
                   stored.tags[Index(Side::kCallee)], ")"));
  return sdp;
}

void CallManager::Promote(Call& call, Stream& stream) {
  if (!stream.pending.has_value()) return;
  std::vector<uint64_t> old;
  if (stream.current.has_value()) AppendLegs(*stream.current, &old);
  for (uint64_t id : old) {
    legs_.erase(id);
    if (flow_ != nullptr) flow_->DeleteLeg(id).IgnoreError();
  }
  stream.current = std::move(stream.pending);
  stream.pending.reset();
  Log(absl::StrCat("call ", call.call_id, ": stream ", stream.index,
                   ": new association is up, old legs deleted"));
}

absl::Status CallManager::DeleteCallLegs(Call& call) {
  for (Stream& stream : call.streams) {
    std::vector<uint64_t> ids;
    if (stream.current.has_value()) AppendLegs(*stream.current, &ids);
    if (stream.pending.has_value()) AppendLegs(*stream.pending, &ids);
    for (uint64_t id : ids) {
      absl::Status s = flow_->DeleteLeg(id);
      // A leg already gone (deleted by hand, dataplane restarted) is what we want anyway.
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CallManager::Delete(const DeleteRequest& request) {
  auto found = calls_.find(request.call_id);
  if (found == calls_.end()) {
    return Count(absl::NotFoundError(absl::StrCat("no call with call-id ", request.call_id)));
  }
  Call& call = found->second;
  if (request.from_tag.has_value() && *request.from_tag != call.tags[0] &&
      *request.from_tag != call.tags[1]) {
    return Count(absl::NotFoundError(absl::StrCat("call ", request.call_id,
                                                  " has no dialog with from-tag ",
                                                  *request.from_tag)));
  }
  if (request.to_tag.has_value() && !call.tags[1].empty() && *request.to_tag != call.tags[1] &&
      *request.to_tag != call.tags[0]) {
    return Count(absl::NotFoundError(absl::StrCat("call ", request.call_id,
                                                  " has no dialog with to-tag ",
                                                  *request.to_tag)));
  }
  if (flow_ == nullptr) {
    return Count(absl::UnavailableError("the dataplane is not reachable yet; retry in a moment"));
  }
  if (absl::Status s = DeleteCallLegs(call); !s.ok()) return Count(s);
  Unindex(call);
  Log(absl::StrCat("call ", call.call_id, ": deleted"));
  calls_.erase(found);
  ++deletes_;
  return absl::OkStatus();
}

void CallManager::Reindex(const Call& call) {
  for (const Stream& stream : call.streams) {
    for (const Association* a : {stream.current ? &*stream.current : nullptr,
                                 stream.pending ? &*stream.pending : nullptr}) {
      if (a == nullptr) continue;
      for (Side side : {Side::kCaller, Side::kCallee}) {
        uint64_t id = a->legs[Index(side)].id;
        if (id != 0) legs_[id] = LegRef{call.call_id, stream.index, a->generation, side};
      }
    }
  }
}

void CallManager::Unindex(const Call& call) {
  for (auto it = legs_.begin(); it != legs_.end();) {
    it = it->second.call_id == call.call_id ? legs_.erase(it) : std::next(it);
  }
}

void CallManager::SyncLabels(Call& call) {
  if (flow_ == nullptr) return;
  for (Stream& stream : call.streams) {
    for (Association* a : {stream.current ? &*stream.current : nullptr,
                           stream.pending ? &*stream.pending : nullptr}) {
      if (a == nullptr) continue;
      const bool pending = a == (stream.pending ? &*stream.pending : nullptr);
      for (Side side : {Side::kCaller, Side::kCallee}) {
        RelayLeg& leg = a->legs[Index(side)];
        if (leg.id == 0) continue;
        std::string label = EncodeLabel(call, stream, *a, pending, side);
        if (label == leg.label) continue;
        dataplane::LegUpdateRequest update;
        update.leg = leg.id;
        update.label = label;
        absl::Status s = flow_->UpdateLeg(update);
        if (s.ok()) {
          leg.label = std::move(label);
        } else {
          Log(absl::StrCat("call ", call.call_id, ": cannot update the label of leg ", leg.id,
                           ": ", s.message()));
        }
      }
    }
  }
}

RelayLeg* CallManager::FindLeg(uint64_t id, Call** call, Stream** stream, bool* pending) {
  auto ref = legs_.find(id);
  if (ref == legs_.end()) return nullptr;
  auto c = calls_.find(ref->second.call_id);
  if (c == calls_.end()) return nullptr;
  Stream* st = FindStream(c->second, ref->second.stream);
  if (st == nullptr) return nullptr;
  *call = &c->second;
  *stream = st;
  for (Association* a : {st->current ? &*st->current : nullptr,
                         st->pending ? &*st->pending : nullptr}) {
    if (a == nullptr) continue;
    RelayLeg& leg = a->legs[Index(ref->second.side)];
    if (leg.id == id) {
      *pending = a == (st->pending ? &*st->pending : nullptr);
      return &leg;
    }
  }
  return nullptr;
}

void CallManager::HandleEvent(const dataplane::LegEvent& event) {
  Call* call = nullptr;
  Stream* stream = nullptr;
  bool pending = false;
  RelayLeg* leg = FindLeg(event.leg, &call, &stream, &pending);
  if (leg == nullptr) return;  // not ours, or already gone
  const nlohmann::json& f = event.fields;
  const int64_t now = Now();
  if (event.name == "leg.established") {
    leg->state = dataplane::LegState::kEstablished;
    if (f.is_object() && f.contains("role") && f["role"].is_string()) {
      leg->role = f["role"] == "client" ? dataplane::DtlsRole::kClient
                                        : dataplane::DtlsRole::kServer;
    }
    leg->idle = false;
    call->last_activity = now;
    Log(absl::StrCat("call ", call->call_id, ": leg ", leg->id, " established"));
    if (pending && !call->offer_from.has_value() && AllDtlsEstablished(*stream->pending)) {
      Promote(*call, *stream);
      SyncLabels(*call);
    }
  } else if (event.name == "leg.failed") {
    leg->state = dataplane::LegState::kFailed;
    leg->failure = f.is_object() && f.contains("reason") && f["reason"].is_string()
                       ? f["reason"].get<std::string>()
                       : "unknown";
    if (pending && stream->current.has_value()) {
      // RFC 7345 section 4.5: the old association stays until a new one is up; a failed new
      // one is dropped and the old one keeps relaying.
      Log(absl::StrCat("call ", call->call_id, ": new association failed (", leg->failure,
                       "), keeping the old one"));
      std::vector<uint64_t> ids;
      AppendLegs(*stream->pending, &ids);
      for (uint64_t id : ids) {
        legs_.erase(id);
        if (flow_ != nullptr) flow_->DeleteLeg(id).IgnoreError();
      }
      stream->pending.reset();
      return;
    }
    call->state = CallState::kFailed;
    call->failure = absl::StrCat("leg ", leg->id, " failed: ", leg->failure);
    Log(absl::StrCat("call ", call->call_id, ": ", call->failure));
    SyncLabels(*call);
  } else if (event.name == "leg.latched") {
    if (f.is_object() && f.contains("remote") && f["remote"].is_object()) {
      const nlohmann::json& r = f["remote"];
      if (r.contains("ip") && r["ip"].is_string() && r.contains("port") &&
          r["port"].is_number_integer() && r["port"].get<int64_t>() > 0 &&
          r["port"].get<int64_t>() <= 65535) {
        std::optional<dataplane::IpAddress> ip =
            dataplane::ParseIpAddress(r["ip"].get<std::string>());
        if (ip.has_value()) {
          leg->remote = dataplane::SocketAddress{*ip, r["port"].get<uint16_t>()};
        }
      }
    }
    leg->idle = false;
    call->last_activity = now;
  } else if (event.name == "leg.idle") {
    int64_t seconds = f.is_object() && f.contains("seconds") && f["seconds"].is_number_integer()
                          ? std::max<int64_t>(0, f["seconds"].get<int64_t>())
                          : 0;
    leg->idle = true;
    leg->idle_since = now - seconds;
    leg->idle_rx_packets = 0;
    if (flow_ != nullptr) {
      absl::StatusOr<dataplane::LegInfo> info = flow_->GetLeg(leg->id);
      if (info.ok()) leg->idle_rx_packets = info->counters.rx_packets;
    }
  }
}

void CallManager::Tick() {
  if (flow_ == nullptr) return;
  const int64_t now = Now();
  std::vector<std::string> expired;
  for (auto& [id, call] : calls_) {
    bool any = false;
    bool all_idle = true;
    for (Stream& stream : call.streams) {
      for (Association* a : {stream.current ? &*stream.current : nullptr,
                             stream.pending ? &*stream.pending : nullptr}) {
        if (a == nullptr) continue;
        for (RelayLeg& leg : a->legs) {
          if (leg.id == 0) continue;
          any = true;
          if (!leg.idle || now - leg.idle_since < options_.idle_timeout_s) {
            all_idle = false;
            continue;
          }
          // Still idle only if nothing arrived since leg.idle.
          absl::StatusOr<dataplane::LegInfo> info = flow_->GetLeg(leg.id);
          if (info.ok() && info->counters.rx_packets != leg.idle_rx_packets) {
            leg.idle = false;
            all_idle = false;
          }
        }
      }
    }
    if (any && all_idle) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    Call& call = calls_[id];
    if (!DeleteCallLegs(call).ok()) continue;
    Log(absl::StrCat("call ", id, ": idle for ", options_.idle_timeout_s, " s, deleted"));
    Unindex(call);
    calls_.erase(id);
    ++idle_deletes_;
  }
}

absl::StatusOr<size_t> CallManager::Recover() {
  if (flow_ == nullptr) {
    return absl::UnavailableError("the dataplane is not reachable yet; retry in a moment");
  }
  return RecoverFrom(flow_->ListLegs());
}

size_t CallManager::RecoverFrom(const std::vector<dataplane::LegInfo>& legs) {
  std::map<std::string, Call> rebuilt;
  std::set<uint64_t> present;
  for (const dataplane::LegInfo& info : legs) {
    present.insert(info.leg);
    std::optional<DecodedLabel> label = DecodeLabel(info.label);
    if (!label.has_value()) continue;  // not ours: left alone
    auto [it, inserted] = rebuilt.try_emplace(label->call.call_id);
    Call& call = it->second;
    const Side side = label->side;
    if (inserted) {
      std::array<offer_answer::OriginState, 2> origin = call.origin;
      call = label->call;
      call.origin = origin;
    }
    call.origin[Index(side)] = label->call.origin[Index(side)];
    Stream* stream = FindStream(call, label->stream);
    if (stream == nullptr) {
      call.streams.push_back(Stream{});
      stream = &call.streams.back();
      stream->index = label->stream;
    }
    stream->next_generation = std::max(stream->next_generation, label->generation + 1);
    if (label->peer.known) stream->peer[Index(side)] = label->peer;
    std::optional<Association>& slot = label->pending ? stream->pending : stream->current;
    if (!slot.has_value() || slot->generation != label->generation) {
      // Two generations in one slot: a promotion that was not relabelled; the newer wins.
      if (slot.has_value() && slot->generation > label->generation) continue;
      slot = Association{};
      slot->generation = label->generation;
    }
    RelayLeg& leg = slot->legs[Index(side)];
    leg.id = info.leg;
    leg.transport = info.transport;
    leg.local = info.local;
    leg.fingerprint = info.fingerprint;
    leg.setup = info.setup.value_or(DtlsSetup::kActpass);
    leg.tls_id = label->tls_id;
    leg.ice = label->ice;
    leg.remote = info.remote;
    leg.state = info.state;
    leg.role = info.role;
    leg.label = info.label;
  }
  size_t count = 0;
  for (auto& [id, call] : rebuilt) {
    for (Stream& stream : call.streams) {
      if (!stream.current.has_value() && stream.pending.has_value()) {
        stream.current = std::move(stream.pending);
        stream.pending.reset();
      }
      for (std::optional<Association>* a : {&stream.current, &stream.pending}) {
        if (!a->has_value()) continue;
        // Half an association (its partner deleted while control was down): drop it.
        if ((*a)->legs[0].id == 0 || (*a)->legs[1].id == 0) {
          for (const RelayLeg& l : (*a)->legs) {
            if (l.id != 0 && flow_ != nullptr) flow_->DeleteLeg(l.id).IgnoreError();
          }
          a->reset();
        }
      }
    }
    std::erase_if(call.streams, [](const Stream& s) { return !s.current.has_value(); });
    if (calls_.count(id) != 0) continue;  // known in memory: memory is newer
    Call& stored = calls_[id] = std::move(call);
    Reindex(stored);
    ++count;
    Log(absl::StrCat("call ", id, ": recovered from the dataplane's legs"));
  }
  // Calls we know whose legs the dataplane no longer has: it restarted. With none of them left
  // the call is programmed again where its SDP says; with some left something else deleted legs.
  // Ids of the old legs may come back for new ones: every affected call leaves the index first.
  std::vector<Call*> reprogram;
  for (auto& [id, call] : calls_) {
    size_t legs = 0;
    size_t missing = 0;
    for (Stream& stream : call.streams) {
      for (std::optional<Association>* a : {&stream.current, &stream.pending}) {
        if (!a->has_value()) continue;
        for (RelayLeg& l : (*a)->legs) {
          if (l.id == 0) continue;
          ++legs;
          if (present.count(l.id) == 0) {
            ++missing;
            l.id = 0;
          }
        }
      }
    }
    if (missing == 0) continue;
    Unindex(call);
    if (missing == legs && call.state != CallState::kFailed) {
      reprogram.push_back(&call);
      continue;
    }
    Reindex(call);
    MarkLost(call, missing == legs ? "the dataplane restarted after the call had failed"
                                   : "the dataplane lost some of its legs");
  }
  for (Call* call : reprogram) {
    if (absl::Status s = Reprogram(*call); !s.ok()) {
      for (Stream& stream : call->streams) {
        for (std::optional<Association>* a : {&stream.current, &stream.pending}) {
          if (a->has_value()) (*a)->legs[0].id = (*a)->legs[1].id = 0;
        }
      }
      MarkLost(*call, std::string(s.message()));
      continue;
    }
    Reindex(*call);
    ++reprogrammed_calls_;
    Log(absl::StrCat("call ", call->call_id, ": programmed again in the restarted dataplane"));
  }
  recovered_calls_ += count;
  return count;
}

absl::Status CallManager::Reprogram(Call& call) {
  if (flow_ == nullptr) return absl::UnavailableError("no dataplane");
  Transaction tx(flow_);
  for (Stream& stream : call.streams) {
    stream.pending.reset();  // a new association still waiting for its handshakes: gone
    if (!stream.current.has_value()) continue;
    Association& a = *stream.current;
    for (Side side : {Side::kCaller, Side::kCallee}) {
      RelayLeg& leg = a.legs[Index(side)];
      const PeerState& peer = stream.peer[Index(side)];
      const bool dtls = leg.transport == LegTransport::kDtls;
      dataplane::LegAddRequest add;
      add.transport = leg.transport;
      add.ip = leg.local.ip;
      add.port = leg.local.port;
      add.remote = leg.remote.has_value() ? leg.remote : peer.remote;
      if (dtls) {
        add.setup = leg.setup;
        if (peer.known) add.remote_setup = peer.setup.value_or(DtlsSetup::kActive);
        add.fingerprints = peer.fingerprints;
        add.anonymous = call.anonymous;
      }
      if (leg.ice.has_value()) add.ice = IceFor(*leg.ice, peer.ice);
      leg.state = dtls ? dataplane::LegState::kWaiting : dataplane::LegState::kPlain;
      leg.role.reset();
      leg.failure.clear();
      leg.idle = false;
      add.label = EncodeLabel(call, stream, a, /*pending=*/false, side);
      absl::StatusOr<dataplane::LegAddResult> r = tx.Add(add);
      if (!r.ok()) {
        return absl::Status(r.status().code(),
                            absl::StrCat("the restarted dataplane refused leg ",
                                         leg.local.ToString(), ": ", r.status().message()));
      }
      // The peers hold our fingerprint from the SDP: only a fixed identity (PEM files) survives
      // a restart; the DTLS association itself does not, the peers handshake again.
      if (dtls && r->fingerprint != leg.fingerprint) {
        return absl::FailedPreconditionError(
            "the restarted dataplane has another certificate than the SDP gave the peers "
            "(configure a fixed identity to survive restarts); a re-INVITE brings the new one");
      }
      leg.id = r->leg;
      leg.label = add.label;
    }
    if (absl::Status st = tx.Link(a.legs[0].id, a.legs[1].id); !st.ok()) return st;
  }
  tx.Commit();
  return absl::OkStatus();
}

void CallManager::MarkLost(Call& call, const std::string& why) {
  if (call.state == CallState::kFailed && call.failure.rfind("lost", 0) == 0) return;
  call.state = CallState::kFailed;
  call.failure = absl::StrCat("lost: ", why);
  ++lost_calls_;
  Log(absl::StrCat("call ", call.call_id, ": ", call.failure));
}

nlohmann::json CallManager::CallJson(const Call& call,
                                     const std::map<uint64_t, dataplane::LegInfo>& live) const {
  using nlohmann::json;
  json legs = json::array();
  for (const Stream& stream : call.streams) {
    for (const std::optional<Association>* a : {&stream.current, &stream.pending}) {
      if (!a->has_value()) continue;
      for (Side side : {Side::kCaller, Side::kCallee}) {
        const RelayLeg& leg = (*a)->legs[Index(side)];
        if (leg.id == 0) continue;
        auto info = live.find(leg.id);
        const bool have = info != live.end();
        std::optional<dataplane::SocketAddress> remote = have ? info->second.remote : leg.remote;
        std::optional<dataplane::DtlsRole> role = have ? info->second.role : leg.role;
        json j{{"side", SideName(side)},
               {"tag", call.tags[Index(side)]},
               {"leg", leg.id},
               {"stream", stream.index},
               {"transport", dataplane::LegTransportName(leg.transport)},
               {"local", dataplane::AddressToJson(leg.local)},
               {"remote", remote ? dataplane::AddressToJson(*remote) : json(nullptr)},
               {"state", dataplane::LegStateName(have ? info->second.state : leg.state)},
               {"setup", leg.transport == LegTransport::kDtls
                             ? json(dataplane::SetupName(leg.setup))
                             : json(nullptr)},
               {"role", role ? json(dataplane::DtlsRoleName(*role)) : json(nullptr)},
               {"rx_packets", have ? info->second.counters.rx_packets : 0},
               {"forwarded_packets", have ? info->second.counters.forwarded_packets : 0}};
        uint64_t dropped = 0;
        if (have) {
          for (const auto& [reason, n] : info->second.counters.drops) dropped += n;
        }
        j["dropped_packets"] = dropped;
        if (a == &stream.pending) j["pending"] = true;
        if (!leg.failure.empty()) j["failure"] = leg.failure;
        legs.push_back(std::move(j));
      }
    }
  }
  json j{{"call_id", call.call_id},
         {"from_tag", call.tags[0]},
         {"to_tag", call.tags[1].empty() ? json(nullptr) : json(call.tags[1])},
         {"state", CallStateName(call.state)},
         {"created", call.created},
         {"last_activity", call.last_activity},
         {"transport_policy", TransportPolicyName(call.policy)},
         {"anonymous", call.anonymous},
         {"legs", std::move(legs)}};
  if (!call.failure.empty()) j["reason"] = call.failure;
  return j;
}

absl::StatusOr<nlohmann::json> CallManager::Query(std::string_view call_id) {
  auto found = calls_.find(std::string(call_id));
  if (found == calls_.end()) {
    return Count(absl::NotFoundError(absl::StrCat("no call with call-id ", std::string(call_id))));
  }
  std::map<uint64_t, dataplane::LegInfo> live;
  if (flow_ != nullptr) {
    for (const Stream& stream : found->second.streams) {
      for (const std::optional<Association>* a : {&stream.current, &stream.pending}) {
        if (!a->has_value()) continue;
        for (const RelayLeg& l : (*a)->legs) {
          absl::StatusOr<dataplane::LegInfo> info = flow_->GetLeg(l.id);
          if (info.ok()) live[l.id] = std::move(*info);
        }
      }
    }
  }
  return CallJson(found->second, live);
}

nlohmann::json CallManager::List() {
  std::map<uint64_t, dataplane::LegInfo> live;
  if (flow_ != nullptr && !calls_.empty()) {
    for (dataplane::LegInfo& info : flow_->ListLegs()) live[info.leg] = std::move(info);
  }
  nlohmann::json calls = nlohmann::json::array();
  for (const auto& [id, call] : calls_) calls.push_back(CallJson(call, live));
  return nlohmann::json{{"calls", std::move(calls)}};
}

nlohmann::json CallManager::Stats() {
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [code, n] : errors_) errors[code] = n;
  return nlohmann::json{{"calls", calls_.size()},
                        {"legs", legs_.size()},
                        {"offers", offers_},
                        {"answers", answers_},
                        {"deletes", deletes_},
                        {"idle_deletes", idle_deletes_},
                        {"errors", std::move(errors)},
                        {"dataplane",
                         {{"connected", flow_ != nullptr},
                          {"recovered_calls", recovered_calls_},
                          {"lost_calls", lost_calls_},
                          {"reprogrammed_calls", reprogrammed_calls_}}}};
}

}  // namespace t38relay::control::calls
