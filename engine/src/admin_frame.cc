#include "admin_frame.h"

#include "aligned_bytes.h"
#include "holdfast/stats_fields.h"
#include "holdfast_schema/admin_frame_generated.h"
#include "records.h"

namespace holdfast::internal {
namespace {

namespace fba = fb::admin;
using Builder = flatbuffers::FlatBufferBuilder;
template <typename T>
using Offset = flatbuffers::Offset<T>;
using Bytes = flatbuffers::Vector<uint8_t>;

static_assert(static_cast<uint8_t>(kLastAdminOp) == static_cast<uint8_t>(fba::AdminOp::MAX));
static_assert(static_cast<uint8_t>(AdminOp::kEdit) == static_cast<uint8_t>(fba::AdminOp::Edit));

// Verifier limits: a frame nests at most five tables deep (frame, response, details, version,
// partner); a response of 16 MiB holds well under a million tables.
constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 4'000'000;
// Smallest flatbuffer with a root offset and a file identifier.
constexpr size_t kMinBodyBytes = 8;

Status Bad(const std::string& why) {
  return Status::InvalidArgument("not a valid admin frame: " + why);
}

// --- encoding --------------------------------------------------------------------------------

Offset<Bytes> BytesField(Builder& fbb, std::string_view bytes) {
  return fbb.CreateVector(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Offset<fba::ProfileLocation> EncodeLocation(Builder& fbb, const ProfileLocation& at) {
  auto store = fbb.CreateString(at.store);
  auto key = BytesField(fbb, at.key);
  return fba::CreateProfileLocation(fbb, store, key);
}

Offset<flatbuffers::Vector<Offset<fba::ProfileLocation>>> EncodeLocations(
    Builder& fbb, const std::vector<ProfileLocation>& locations) {
  std::vector<Offset<fba::ProfileLocation>> out;
  out.reserve(locations.size());
  for (const ProfileLocation& at : locations) out.push_back(EncodeLocation(fbb, at));
  return fbb.CreateVector(out);
}

Offset<fba::LockHolder> EncodeHolder(Builder& fbb, const LockHolder& h) {
  auto owner = fbb.CreateString(h.owner);
  return fba::CreateLockHolder(fbb, owner, h.since_unix_ms, h.epoch, h.session_id,
                               h.incarnation);
}

Offset<fba::HeldLock> EncodeLock(Builder& fbb, const HeldLock& lock) {
  auto store = fbb.CreateString(lock.store);
  auto key = BytesField(fbb, lock.key);
  auto holder = EncodeHolder(fbb, lock.holder);
  return fba::CreateHeldLock(fbb, store, key, holder, lock.orphaned);
}

Offset<fba::VersionInfo> EncodeVersion(Builder& fbb, const VersionInfo& v) {
  auto partners = EncodeLocations(fbb, v.partners);
  return fba::CreateVersionInfo(fbb, v.version, v.written_unix_ms, static_cast<uint8_t>(v.reason),
                                v.epoch, v.source_version, v.payload_bytes, v.damaged, partners);
}

Offset<fba::ProfileDetails> EncodeDetails(Builder& fbb, const ProfileDetails& d) {
  auto codec = fbb.CreateString(d.codec);
  auto payload = BytesField(fbb, d.view.payload);
  auto version = EncodeVersion(fbb, d.view.version);
  auto user_ids = fbb.CreateVector(d.view.user_ids);
  std::vector<Offset<fba::MetadataEntry>> metadata;
  for (const auto& [name, value] : d.view.metadata) {
    auto n = BytesField(fbb, name);
    auto v = BytesField(fbb, value);
    metadata.push_back(fba::CreateMetadataEntry(fbb, n, v));
  }
  auto metadata_vec = fbb.CreateVector(metadata);
  Offset<fba::HeldLock> lock = d.lock ? EncodeLock(fbb, *d.lock) : 0;
  return fba::CreateProfileDetails(fbb, codec, payload, version, d.view.load_count, user_ids,
                                   metadata_vec, d.view.locked, lock, d.created_unix_ms,
                                   d.updated_unix_ms, d.first_session_unix_ms, d.last_version);
}

Offset<fba::VerifyReport> EncodeReport(Builder& fbb, const VerifyReport& r) {
  std::vector<Offset<fba::DamagedRecord>> damaged;
  for (const DamagedRecord& d : r.damaged) {
    auto store = fbb.CreateString(d.store);
    auto key = BytesField(fbb, d.key);
    auto record = fbb.CreateString(d.record);
    auto reason = fbb.CreateString(d.reason);
    damaged.push_back(fba::CreateDamagedRecord(fbb, store, key, record, d.version, reason));
  }
  auto damaged_vec = fbb.CreateVector(damaged);
  return fba::CreateVerifyReport(fbb, r.stores, r.profiles, r.versions, r.messages, r.records,
                                 damaged_vec);
}

std::string Finish(Builder& fbb, Offset<fba::AdminRequest> request,
                   Offset<fba::AdminResponse> response) {
  auto frame = fba::CreateAdminFrame(fbb, kAdminFrameVersion, request, response);
  fba::FinishAdminFrameBuffer(fbb, frame);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// --- decoding --------------------------------------------------------------------------------

std::string BytesOf(const Bytes* v) {
  return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
}
std::string TextOf(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

Result<ProfileLocation> DecodeLocation(const fba::ProfileLocation* at) {
  if (at == nullptr) return Bad("an empty profile location");
  return ProfileLocation{TextOf(at->store()), BytesOf(at->key())};
}

Result<std::vector<ProfileLocation>> DecodeLocations(
    const flatbuffers::Vector<Offset<fba::ProfileLocation>>* v) {
  std::vector<ProfileLocation> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const fba::ProfileLocation* at : *v) {
    auto decoded = DecodeLocation(at);
    if (!decoded.ok()) return decoded.status();
    out.push_back(std::move(*decoded));
  }
  return out;
}

LockHolder DecodeHolder(const fba::LockHolder* h) {
  if (h == nullptr) return {};
  return LockHolder{TextOf(h->owner()), h->since_unix_ms(), h->epoch(), h->session_id(),
                    h->incarnation()};
}

Result<HeldLock> DecodeLock(const fba::HeldLock* l) {
  if (l == nullptr) return Bad("an empty lock");
  return HeldLock{TextOf(l->store()), BytesOf(l->key()), DecodeHolder(l->holder()),
                  l->orphaned()};
}

Result<VersionInfo> DecodeVersion(const fba::VersionInfo* v) {
  if (v == nullptr) return Bad("an empty version");
  if (v->reason() > kMaxVersionReason) {
    return Bad("unknown version reason " + std::to_string(v->reason()));
  }
  VersionInfo out;
  out.version = v->version();
  out.written_unix_ms = v->written_unix_ms();
  out.reason = static_cast<VersionReason>(v->reason());
  out.epoch = v->epoch();
  out.source_version = v->source_version();
  out.payload_bytes = v->payload_bytes();
  out.damaged = v->damaged();
  auto partners = DecodeLocations(v->partners());
  if (!partners.ok()) return partners.status();
  out.partners = std::move(*partners);
  return out;
}

Result<ProfileDetails> DecodeDetails(const fba::ProfileDetails* d) {
  ProfileDetails out;
  out.codec = TextOf(d->codec());
  out.view.payload = BytesOf(d->payload());
  if (d->version()) {
    auto version = DecodeVersion(d->version());
    if (!version.ok()) return version.status();
    out.view.version = std::move(*version);
  }
  out.view.load_count = d->load_count();
  if (const auto* ids = d->user_ids()) {
    // The Verifier checks a vector's length but not that 8-byte elements are aligned.
    if (ids->size() > 0 && reinterpret_cast<uintptr_t>(ids->data()) % sizeof(int64_t) != 0) {
      return Bad("misaligned user ids");
    }
    out.view.user_ids.assign(ids->begin(), ids->end());
  }
  if (const auto* metadata = d->metadata()) {
    for (const fba::MetadataEntry* e : *metadata) {
      if (e == nullptr) return Bad("an empty metadata entry");
      out.view.metadata[BytesOf(e->name())] = BytesOf(e->value());
    }
  }
  out.view.locked = d->locked();
  if (d->lock()) {
    auto lock = DecodeLock(d->lock());
    if (!lock.ok()) return lock.status();
    out.view.lock = lock->holder;
    out.lock = std::move(*lock);
  }
  out.created_unix_ms = d->created_unix_ms();
  out.updated_unix_ms = d->updated_unix_ms();
  out.first_session_unix_ms = d->first_session_unix_ms();
  out.last_version = d->last_version();
  return out;
}

Result<VerifyReport> DecodeReport(const fba::VerifyReport* r) {
  VerifyReport out;
  out.stores = r->stores();
  out.profiles = r->profiles();
  out.versions = r->versions();
  out.messages = r->messages();
  out.records = r->records();
  if (const auto* damaged = r->damaged()) {
    for (const fba::DamagedRecord* d : *damaged) {
      if (d == nullptr) return Bad("an empty damaged record");
      out.damaged.push_back(DamagedRecord{TextOf(d->store()), BytesOf(d->key()),
                                          TextOf(d->record()), d->version(),
                                          TextOf(d->reason())});
    }
  }
  return out;
}

// Verifies `body` (the frame body copied to an aligned address: the bytes from the socket carry no
// alignment guarantee, and flatbuffers reads scalars in place) as an AdminFrame.
Result<const fba::AdminFrame*> VerifiedFrame(const AlignedBytes& body) {
  if (body.size() < kMinBodyBytes) {
    return Bad("too short (" + std::to_string(body.size()) + " bytes)");
  }
  const uint8_t* buf = body.data();
  if (!fba::AdminFrameBufferHasIdentifier(buf)) {
    return Bad(std::string("wrong file identifier (expected ") + fba::AdminFrameIdentifier() + ")");
  }
  flatbuffers::Verifier verifier(buf, body.size(), kMaxDepth, kMaxTables);
  if (!fba::VerifyAdminFrameBuffer(verifier)) return Bad("flatbuffer verification failed");
  const fba::AdminFrame* frame = fba::GetAdminFrame(buf);
  if (frame->frame_version() == 0 || frame->frame_version() > kAdminFrameVersion) {
    return Bad("frame version " + std::to_string(frame->frame_version()) +
               " is not one this build reads (1.." + std::to_string(kAdminFrameVersion) + ")");
  }
  if ((frame->request() == nullptr) == (frame->response() == nullptr)) {
    return Bad("a frame holds exactly one of a request and a response");
  }
  return frame;
}

}  // namespace

std::string AdminFrameHeader(size_t body_bytes) {
  std::string header(kAdminFrameHeaderBytes, '\0');
  for (size_t i = 0; i < kAdminFrameHeaderBytes; ++i) {
    header[i] = static_cast<char>((body_bytes >> (8 * i)) & 0xff);
  }
  return header;
}

uint32_t ReadAdminFrameHeader(const char* header) {
  uint32_t length = 0;
  for (size_t i = 0; i < kAdminFrameHeaderBytes; ++i) {
    length |= uint32_t{static_cast<unsigned char>(header[i])} << (8 * i);
  }
  return length;
}

std::string EncodeAdminRequest(const AdminRequest& r) {
  Builder fbb(256 + r.payload.size());
  auto store = fbb.CreateString(r.store);
  auto key = BytesField(fbb, r.key);
  auto payload = BytesField(fbb, r.payload);
  auto prefix = BytesField(fbb, r.profiles.prefix);
  Offset<Bytes> after_key = r.profiles.after_key ? BytesField(fbb, *r.profiles.after_key) : 0;
  auto path = fbb.CreateString(r.path);
  fba::AdminRequestBuilder request(fbb);
  request.add_op(static_cast<fba::AdminOp>(r.op));
  request.add_store(store);
  request.add_key(key);
  if (r.version) request.add_version(*r.version);
  request.add_unix_ms(r.unix_ms);
  request.add_payload(payload);
  request.add_user_id(r.user_id);
  request.add_prefix(prefix);
  request.add_limit(r.op == AdminOp::kVersions ? r.versions.limit : r.profiles.limit);
  if (r.profiles.after_key) request.add_after_key(after_key);
  if (r.versions.from_unix_ms) request.add_from_unix_ms(*r.versions.from_unix_ms);
  if (r.versions.to_unix_ms) request.add_to_unix_ms(*r.versions.to_unix_ms);
  if (r.versions.before_version) request.add_before_version(*r.versions.before_version);
  request.add_path(path);
  return Finish(fbb, request.Finish(), 0);
}

Result<AdminRequest> DecodeAdminRequest(std::string_view body) {
  const AlignedBytes aligned(body);
  auto frame = VerifiedFrame(aligned);
  if (!frame.ok()) return frame.status();
  const fba::AdminRequest* r = (*frame)->request();
  if (r == nullptr) return Bad("expected a request, got a response");
  const auto op = static_cast<uint8_t>(r->op());
  if (op == 0 || op > static_cast<uint8_t>(kLastAdminOp)) {
    return Bad("unknown operation " + std::to_string(op));
  }
  AdminRequest out;
  out.op = static_cast<AdminOp>(op);
  out.store = TextOf(r->store());
  out.key = BytesOf(r->key());
  if (r->version()) out.version = *r->version();
  out.unix_ms = r->unix_ms();
  out.payload = BytesOf(r->payload());
  out.user_id = r->user_id();
  out.profiles.prefix = BytesOf(r->prefix());
  out.profiles.limit = static_cast<size_t>(r->limit());
  if (r->after_key()) out.profiles.after_key = BytesOf(r->after_key());
  out.versions.limit = static_cast<size_t>(r->limit());
  if (r->from_unix_ms()) out.versions.from_unix_ms = *r->from_unix_ms();
  if (r->to_unix_ms()) out.versions.to_unix_ms = *r->to_unix_ms();
  if (r->before_version()) out.versions.before_version = *r->before_version();
  out.path = TextOf(r->path());
  return out;
}

namespace {

// Engine statistics by name (holdfast/stats_fields.h): a name this build does not know is
// skipped, so a newer engine's counters do not break an older tool.
Offset<fba::EngineStats> EncodeStats(Builder& fbb, const EngineStats& stats) {
  std::vector<Offset<fba::StatCounter>> counters;
  for (const StatsCounterField& c : kStatsCounterFields) {
    auto name = fbb.CreateString(c.name.data(), c.name.size());
    counters.push_back(fba::CreateStatCounter(fbb, name, stats.*c.field));
  }
  auto counters_vec = fbb.CreateVector(counters);
  std::vector<Offset<fba::StatLatency>> latencies;
  for (const StatsLatencyField& l : kStatsLatencyFields) {
    const LatencySummary& summary = stats.*l.field;
    auto name = fbb.CreateString(l.name.data(), l.name.size());
    latencies.push_back(fba::CreateStatLatency(fbb, name, summary.count, summary.p50_us,
                                               summary.p90_us, summary.p99_us, summary.max_us));
  }
  auto latencies_vec = fbb.CreateVector(latencies);
  return fba::CreateEngineStats(fbb, counters_vec, latencies_vec, stats.critical);
}

Result<EngineStats> DecodeStats(const fba::EngineStats& frame) {
  EngineStats stats;
  stats.critical = frame.critical();
  if (const auto* counters = frame.counters()) {
    for (const fba::StatCounter* c : *counters) {
      if (c == nullptr) return Bad("an empty statistics counter");
      const std::string name = TextOf(c->name());
      for (const StatsCounterField& field : kStatsCounterFields) {
        if (field.name == name) stats.*field.field = c->value();
      }
    }
  }
  if (const auto* latencies = frame.latencies()) {
    for (const fba::StatLatency* l : *latencies) {
      if (l == nullptr) return Bad("an empty latency summary");
      const std::string name = TextOf(l->name());
      for (const StatsLatencyField& field : kStatsLatencyFields) {
        if (field.name == name) {
          stats.*field.field =
              LatencySummary{l->count(), l->p50_us(), l->p90_us(), l->p99_us(), l->max_us()};
        }
      }
    }
  }
  return stats;
}

}  // namespace

std::string EncodeAdminResponse(const AdminResponse& r) {
  Builder fbb(1024);
  auto message = fbb.CreateString(r.status.message());
  std::vector<Offset<flatbuffers::String>> store_names;
  for (const std::string& name : r.info.stores) store_names.push_back(fbb.CreateString(name));
  auto store_names_vec = fbb.CreateVector(store_names);
  auto info_path = fbb.CreateString(r.info.path);
  auto info = fba::CreateEngineInfo(fbb, info_path, r.info.format_version, r.info.incarnation,
                                    store_names_vec);
  std::vector<Offset<fba::StoreSummary>> stores;
  for (const StoreSummary& s : r.stores) {
    auto name = fbb.CreateString(s.name);
    auto codec = fbb.CreateString(s.codec);
    stores.push_back(fba::CreateStoreSummary(fbb, name, codec, s.created_unix_ms, s.profiles,
                                             s.locked, s.versions, s.damaged));
  }
  auto stores_vec = fbb.CreateVector(stores);
  std::vector<Offset<fba::ProfileSummary>> profiles;
  for (const ProfileSummary& p : r.profiles.profiles) {
    auto key = BytesField(fbb, p.key);
    auto damage = fbb.CreateString(p.damage);
    profiles.push_back(fba::CreateProfileSummary(fbb, key, p.version, p.updated_unix_ms,
                                                 p.payload_bytes, p.locked, damage));
  }
  auto profiles_vec = fbb.CreateVector(profiles);
  std::vector<Offset<fba::HeldLock>> locks;
  for (const HeldLock& l : r.locks) locks.push_back(EncodeLock(fbb, l));
  auto locks_vec = fbb.CreateVector(locks);
  Offset<fba::ProfileDetails> details = r.details ? EncodeDetails(fbb, *r.details) : 0;
  std::vector<Offset<fba::VersionInfo>> versions;
  for (const VersionInfo& v : r.versions) versions.push_back(EncodeVersion(fbb, v));
  auto versions_vec = fbb.CreateVector(versions);
  auto locations = EncodeLocations(fbb, r.locations);
  auto verify = EncodeReport(fbb, r.verify);
  Offset<fba::StoreRegistration> registration = 0;
  if (r.registration) {
    auto name = fbb.CreateString(r.registration->name);
    auto codec = fbb.CreateString(r.registration->codec);
    auto schema = BytesField(fbb, r.registration->schema);
    registration = fba::CreateStoreRegistration(fbb, name, codec, schema,
                                                r.registration->created_unix_ms);
  }
  Offset<fba::EngineStats> stats = r.stats ? EncodeStats(fbb, *r.stats) : 0;
  auto response = fba::CreateAdminResponse(
      fbb, static_cast<uint8_t>(r.status.code()), message, r.number, info, stores_vec,
      profiles_vec, r.profiles.more, locks_vec, details, versions_vec, locations, verify,
      registration, stats);
  return Finish(fbb, 0, response);
}

Result<AdminResponse> DecodeAdminResponse(std::string_view body) {
  const AlignedBytes aligned(body);
  auto frame = VerifiedFrame(aligned);
  if (!frame.ok()) return frame.status();
  const fba::AdminResponse* r = (*frame)->response();
  if (r == nullptr) return Bad("expected a response, got a request");
  if (r->code() > static_cast<uint8_t>(StatusCode::kInternal)) {
    return Bad("unknown status code " + std::to_string(r->code()));
  }
  AdminResponse out;
  const auto code = static_cast<StatusCode>(r->code());
  if (code != StatusCode::kOk) {
    out.status = Status(code, TextOf(r->message()));
    return out;  // a failed call carries nothing else
  }
  out.number = r->number();
  if (const fba::EngineInfo* info = r->info()) {
    out.info.path = TextOf(info->path());
    out.info.format_version = info->format_version();
    out.info.incarnation = info->incarnation();
    if (const auto* names = info->stores()) {
      for (const flatbuffers::String* name : *names) out.info.stores.push_back(TextOf(name));
    }
  }
  if (const auto* stores = r->stores()) {
    for (const fba::StoreSummary* s : *stores) {
      if (s == nullptr) return Bad("an empty store summary");
      out.stores.push_back(StoreSummary{TextOf(s->name()), TextOf(s->codec()),
                                        s->created_unix_ms(), s->profiles(), s->locked(),
                                        s->versions(), s->damaged()});
    }
  }
  if (const auto* profiles = r->profiles()) {
    for (const fba::ProfileSummary* p : *profiles) {
      if (p == nullptr) return Bad("an empty profile summary");
      out.profiles.profiles.push_back(ProfileSummary{BytesOf(p->key()), p->version(),
                                                     p->updated_unix_ms(), p->payload_bytes(),
                                                     p->locked(), TextOf(p->damage())});
    }
  }
  out.profiles.more = r->more();
  if (const auto* locks = r->locks()) {
    for (const fba::HeldLock* l : *locks) {
      auto lock = DecodeLock(l);
      if (!lock.ok()) return lock.status();
      out.locks.push_back(std::move(*lock));
    }
  }
  if (r->details()) {
    auto details = DecodeDetails(r->details());
    if (!details.ok()) return details.status();
    out.details = std::move(*details);
  }
  if (const auto* versions = r->versions()) {
    for (const fba::VersionInfo* v : *versions) {
      auto version = DecodeVersion(v);
      if (!version.ok()) return version.status();
      out.versions.push_back(std::move(*version));
    }
  }
  auto locations = DecodeLocations(r->locations());
  if (!locations.ok()) return locations.status();
  out.locations = std::move(*locations);
  if (r->verify()) {
    auto report = DecodeReport(r->verify());
    if (!report.ok()) return report.status();
    out.verify = std::move(*report);
  }
  if (const fba::StoreRegistration* g = r->registration()) {
    out.registration = StoreRegistration{TextOf(g->name()), TextOf(g->codec()),
                                         BytesOf(g->schema()), g->created_unix_ms()};
  }
  if (const fba::EngineStats* stats = r->stats()) {
    auto decoded = DecodeStats(*stats);
    if (!decoded.ok()) return decoded.status();
    out.stats = std::move(*decoded);
  }
  return out;
}

}  // namespace holdfast::internal
