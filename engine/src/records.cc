#include "records.h"

#include <cstring>
#include <memory>

#include "aligned_bytes.h"
#include "crc32c.h"
#include "holdfast_schema/manifest_generated.h"
#include "holdfast_schema/message_record_generated.h"
#include "holdfast_schema/profile_meta_generated.h"
#include "holdfast_schema/profile_record_generated.h"
#include "holdfast_schema/version_record_generated.h"

namespace holdfast::internal {
namespace {

// holdfast::VersionReason is stored as the schema's enum: the numbers must agree, one by one.
constexpr bool SameReason(VersionReason ours, fb::VersionReason stored) {
  return static_cast<uint8_t>(ours) == static_cast<uint8_t>(stored);
}
static_assert(SameReason(VersionReason::kSave, fb::VersionReason::Save));
static_assert(SameReason(VersionReason::kEndSession, fb::VersionReason::EndSession));
static_assert(SameReason(VersionReason::kHandoff, fb::VersionReason::Handoff));
static_assert(SameReason(VersionReason::kRollback, fb::VersionReason::Rollback));
static_assert(SameReason(VersionReason::kCorruptionRecovery,
                         fb::VersionReason::CorruptionRecovery));
static_assert(SameReason(VersionReason::kQuarantine, fb::VersionReason::Quarantine));
static_assert(SameReason(VersionReason::kAdmin, fb::VersionReason::Admin));
static_assert(SameReason(VersionReason::kCreate, fb::VersionReason::Create));
static_assert(SameReason(VersionReason::kSteal, fb::VersionReason::Steal));
static_assert(SameReason(VersionReason::kShutdown, fb::VersionReason::Shutdown));
static_assert(SameReason(VersionReason::kTrade, fb::VersionReason::Trade));
static_assert(kMaxVersionReason == static_cast<uint8_t>(fb::VersionReason::MAX));

constexpr size_t kEnvelopeBytes = 4;
// Smallest flatbuffer with a root offset and a file identifier.
constexpr size_t kMinBufferBytes = 8;
// Verifier limits: our schemas nest at most three tables deep; a manifest with 100k stores is
// far beyond any real deployment.
constexpr flatbuffers::uoffset_t kMaxDepth = 16;
constexpr flatbuffers::uoffset_t kMaxTables = 100'000;

std::string Seal(const flatbuffers::FlatBufferBuilder& fbb) {
  const std::string_view body(reinterpret_cast<const char*>(fbb.GetBufferPointer()),
                              fbb.GetSize());
  const uint32_t masked = MaskCrc(Crc32c(body));
  // One allocation of the final size: appending the envelope to an exact-size copy would
  // reallocate and copy the whole record (a payload-sized copy per record of every save).
  std::string out;
  out.reserve(body.size() + kEnvelopeBytes);
  out.append(body);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return out;
}

Status Bad(const char* what, const std::string& why) {
  return Status::Corruption(std::string(what) + " record: " + why);
}

// Checks the envelope checksum and returns an aligned copy of the flatbuffer inside it.
Result<AlignedBytes> Unseal(std::string_view bytes, const char* what) {
  if (bytes.size() < kMinBufferBytes + kEnvelopeBytes) {
    return Bad(what, "too short (" + std::to_string(bytes.size()) + " bytes)");
  }
  std::string_view body = bytes.substr(0, bytes.size() - kEnvelopeBytes);
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= uint32_t{static_cast<unsigned char>(bytes[body.size() + i])} << (8 * i);
  }
  if (UnmaskCrc(stored) != Crc32c(body)) return Bad(what, "checksum mismatch");
  return AlignedBytes(body);
}

// Flatbuffers 2.0.8's Verifier bounds-checks scalar fields but does not check their alignment,
// and checks vectors' elements only to 4 bytes. Builders always align both, so a misaligned one
// means damaged bytes — and reading it would be undefined behaviour. Except empty vectors: the
// builder does not align what is not there (PreAlign skips a zero length), and nothing is read,
// so an empty vector is never misaligned (found by fuzz/targets/profile_meta.cc).
template <typename T, typename TableType>
bool FieldAligned(const TableType* generated, flatbuffers::voffset_t field) {
  // Generated tables derive privately from flatbuffers::Table, at offset zero.
  const auto* table = reinterpret_cast<const flatbuffers::Table*>(generated);
  flatbuffers::voffset_t offset = table->GetOptionalFieldOffset(field);
  return offset == 0 || (reinterpret_cast<uintptr_t>(table) + offset) % sizeof(T) == 0;
}
template <typename T>
bool VectorAligned(const flatbuffers::Vector<T>* v) {
  return v == nullptr || v->size() == 0 || reinterpret_cast<uintptr_t>(v->data()) % sizeof(T) == 0;
}

bool Aligned(const fb::ProfileRecord* r) {
  using R = fb::ProfileRecord;
  return FieldAligned<uint32_t>(r, R::VT_FORMAT_VERSION) &&
         FieldAligned<uint64_t>(r, R::VT_VERSION) &&
         FieldAligned<uint32_t>(r, R::VT_PAYLOAD_CRC32C) &&
         FieldAligned<int64_t>(r, R::VT_UPDATED_UNIX_MS) && FieldAligned<uint64_t>(r, R::VT_EPOCH) &&
         FieldAligned<uint32_t>(r, R::VT_SCHEMA_VERSION);
}

bool Aligned(const fb::ProfileMeta* m) {
  using M = fb::ProfileMeta;
  using L = fb::SessionLock;
  using Q = fb::ReleaseRequest;
  for (auto field : {M::VT_EPOCH, M::VT_LOAD_COUNT, M::VT_FIRST_SESSION_UNIX_MS,
                     M::VT_CREATED_UNIX_MS, M::VT_UPDATED_UNIX_MS, M::VT_LAST_VERSION,
                     M::VT_NEXT_MESSAGE_SEQ, M::VT_ACKED_MESSAGE_SEQ}) {
    if (!FieldAligned<uint64_t>(m, field)) return false;
  }
  if (!FieldAligned<uint32_t>(m, M::VT_FORMAT_VERSION) || !VectorAligned(m->user_ids()) ||
      (m->versions() && m->versions()->size() > 0 &&
       reinterpret_cast<uintptr_t>(m->versions()->data()) % 8 != 0)) {
    return false;
  }
  if (const L* l = m->lock()) {
    for (auto field : {L::VT_INCARNATION, L::VT_SESSION_ID, L::VT_EPOCH, L::VT_ACQUIRED_UNIX_MS,
                       L::VT_RENEWED_UNIX_MS}) {
      if (!FieldAligned<uint64_t>(l, field)) return false;
    }
  }
  if (const Q* q = m->release_request()) {
    for (auto field : {Q::VT_INCARNATION, Q::VT_SESSION_ID, Q::VT_REQUESTED_UNIX_MS}) {
      if (!FieldAligned<uint64_t>(q, field)) return false;
    }
  }
  return true;
}

bool Aligned(const fb::VersionRecord* r) {
  using V = fb::VersionRecord;
  return FieldAligned<uint32_t>(r, V::VT_FORMAT_VERSION) &&
         FieldAligned<uint64_t>(r, V::VT_VERSION) &&
         FieldAligned<uint32_t>(r, V::VT_PAYLOAD_CRC32C) &&
         FieldAligned<int64_t>(r, V::VT_WRITTEN_UNIX_MS) &&
         FieldAligned<uint64_t>(r, V::VT_EPOCH) && FieldAligned<uint64_t>(r, V::VT_SOURCE_VERSION) &&
         FieldAligned<uint32_t>(r, V::VT_SCHEMA_VERSION);
}

bool Aligned(const fb::MessageRecord* r) {
  using G = fb::MessageRecord;
  return FieldAligned<uint32_t>(r, G::VT_FORMAT_VERSION) &&
         FieldAligned<uint64_t>(r, G::VT_SEQUENCE) &&
         FieldAligned<uint32_t>(r, G::VT_PAYLOAD_CRC32C) &&
         FieldAligned<int64_t>(r, G::VT_SENT_UNIX_MS);
}

bool Aligned(const fb::Manifest* m) {
  using F = fb::Manifest;
  if (!FieldAligned<uint32_t>(m, F::VT_FORMAT_VERSION) ||
      !FieldAligned<int64_t>(m, F::VT_CREATED_UNIX_MS) ||
      !FieldAligned<uint64_t>(m, F::VT_LAST_INCARNATION)) {
    return false;
  }
  if (const auto* stores = m->stores()) {
    for (const fb::StoreEntry* e : *stores) {
      if (e && !FieldAligned<int64_t>(e, fb::StoreEntry::VT_CREATED_UNIX_MS)) return false;
    }
  }
  return true;
}

template <typename Root>
Result<const Root*> VerifiedRoot(const AlignedBytes& buf, const char* identifier,
                                 const char* what) {
  if (!flatbuffers::BufferHasIdentifier(buf.data(), identifier)) {
    return Bad(what, std::string("wrong file identifier (expected ") + identifier + ")");
  }
  flatbuffers::Verifier verifier(buf.data(), buf.size(), kMaxDepth, kMaxTables);
  if (!verifier.VerifyBuffer<Root>(identifier)) return Bad(what, "flatbuffer verification failed");
  const Root* root = flatbuffers::GetRoot<Root>(buf.data());
  if (!Aligned(root)) return Bad(what, "misaligned field");
  return root;
}

Status CheckFormatVersion(uint32_t v, const char* what) {
  if (v == 0) return Bad(what, "format version missing");
  if (v > kFormatVersion) {
    return Bad(what, "format version " + std::to_string(v) +
                         " is newer than this build supports (" + std::to_string(kFormatVersion) +
                         ")");
  }
  return Status::Ok();
}

std::string BytesOf(const flatbuffers::Vector<uint8_t>* v) {
  return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
}
std::string StringOf(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> Bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                        std::string_view s) {
  return fbb.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Status CheckPayload(const std::string& payload, uint32_t stored_crc, const char* what) {
  if (UnmaskCrc(stored_crc) != Crc32c(payload)) return Bad(what, "payload checksum mismatch");
  return Status::Ok();
}

}  // namespace

std::string EncodeProfileRecord(const ProfileRecord& r) {
  flatbuffers::FlatBufferBuilder fbb(r.payload.size() + 128);
  auto payload = Bytes(fbb, r.payload);
  auto codec = fbb.CreateString(r.codec);
  auto root =
      fb::CreateProfileRecord(fbb, kFormatVersion, payload, r.version, MaskCrc(Crc32c(r.payload)),
                              codec, r.updated_unix_ms, r.epoch, r.schema_version);
  fb::FinishProfileRecordBuffer(fbb, root);
  return Seal(fbb);
}

Result<ProfileRecord> DecodeProfileRecord(std::string_view bytes) {
  constexpr const char* kWhat = "profile";
  auto buf = Unseal(bytes, kWhat);
  if (!buf.ok()) return buf.status();
  auto root = VerifiedRoot<fb::ProfileRecord>(*buf, fb::ProfileRecordIdentifier(), kWhat);
  if (!root.ok()) return root.status();
  const fb::ProfileRecord* r = *root;
  if (Status s = CheckFormatVersion(r->format_version(), kWhat); !s.ok()) return s;
  ProfileRecord out;
  out.version = r->version();
  out.payload = BytesOf(r->payload());
  out.codec = StringOf(r->codec());
  out.updated_unix_ms = r->updated_unix_ms();
  out.epoch = r->epoch();
  out.schema_version = r->schema_version();
  if (Status s = CheckPayload(out.payload, r->payload_crc32c(), kWhat); !s.ok()) return s;
  return out;
}

std::string EncodeProfileMeta(const ProfileMeta& m) {
  // Sized for the version index (24 bytes an entry) and the user ids up front, so that a meta
  // record with a full history is built without the builder growing (and copying) three times.
  size_t metadata_bytes = 0;
  for (const auto& [k, v] : m.metadata) metadata_bytes += k.size() + v.size() + 16;
  flatbuffers::FlatBufferBuilder fbb(256 + m.versions.size() * 24 + m.user_ids.size() * 8 +
                                     metadata_bytes);
  flatbuffers::Offset<fb::SessionLock> lock;
  if (m.lock) {
    auto owner = fbb.CreateString(m.lock->owner);
    lock = fb::CreateSessionLock(fbb, m.lock->incarnation, m.lock->session_id, m.lock->epoch,
                                 m.lock->acquired_unix_ms, m.lock->renewed_unix_ms, owner);
  }
  flatbuffers::Offset<fb::ReleaseRequest> release;
  if (m.release_request) {
    release =
        fb::CreateReleaseRequest(fbb, m.release_request->incarnation, m.release_request->session_id,
                                 m.release_request->requested_unix_ms);
  }
  auto user_ids = fbb.CreateVector(m.user_ids);
  std::vector<flatbuffers::Offset<fb::MetadataEntry>> entries;
  entries.reserve(m.metadata.size());
  for (const auto& [k, v] : m.metadata) {
    auto key = fbb.CreateString(k);
    entries.push_back(fb::CreateMetadataEntry(fbb, key, Bytes(fbb, v)));
  }
  auto metadata = fbb.CreateVector(entries);  // std::map iterates sorted, as `key` requires
  std::vector<fb::VersionIndexEntry> index;
  index.reserve(m.versions.size());
  for (const VersionIndexEntry& v : m.versions) {
    index.emplace_back(v.version, v.written_unix_ms, v.reason);
  }
  auto versions = fbb.CreateVectorOfStructs(index);
  fb::ProfileMetaBuilder b(fbb);
  b.add_format_version(kFormatVersion);
  b.add_epoch(m.epoch);
  if (m.lock) b.add_lock(lock);
  if (m.release_request) b.add_release_request(release);
  b.add_load_count(m.load_count);
  b.add_first_session_unix_ms(m.first_session_unix_ms);
  b.add_created_unix_ms(m.created_unix_ms);
  b.add_updated_unix_ms(m.updated_unix_ms);
  b.add_user_ids(user_ids);
  b.add_metadata(metadata);
  b.add_last_version(m.last_version);
  b.add_next_message_seq(m.next_message_seq);
  b.add_acked_message_seq(m.acked_message_seq);
  b.add_versions(versions);
  fb::FinishProfileMetaBuffer(fbb, b.Finish());
  return Seal(fbb);
}

Result<ProfileMeta> DecodeProfileMeta(std::string_view bytes) {
  constexpr const char* kWhat = "profile meta";
  auto buf = Unseal(bytes, kWhat);
  if (!buf.ok()) return buf.status();
  auto root = VerifiedRoot<fb::ProfileMeta>(*buf, fb::ProfileMetaIdentifier(), kWhat);
  if (!root.ok()) return root.status();
  const fb::ProfileMeta* m = *root;
  if (Status s = CheckFormatVersion(m->format_version(), kWhat); !s.ok()) return s;
  ProfileMeta out;
  out.epoch = m->epoch();
  if (const fb::SessionLock* l = m->lock()) {
    out.lock = SessionLock{l->incarnation(),      l->session_id(),      l->epoch(),
                           l->acquired_unix_ms(), l->renewed_unix_ms(), StringOf(l->owner())};
  }
  if (const fb::ReleaseRequest* r = m->release_request()) {
    out.release_request = ReleaseRequest{r->incarnation(), r->session_id(), r->requested_unix_ms()};
  }
  out.load_count = m->load_count();
  out.first_session_unix_ms = m->first_session_unix_ms();
  out.created_unix_ms = m->created_unix_ms();
  out.updated_unix_ms = m->updated_unix_ms();
  if (const auto* ids = m->user_ids()) out.user_ids.assign(ids->begin(), ids->end());
  if (const auto* entries = m->metadata()) {
    for (const fb::MetadataEntry* e : *entries) {
      if (e == nullptr || e->key() == nullptr) return Bad(kWhat, "metadata entry without a key");
      out.metadata[e->key()->str()] = BytesOf(e->value());
    }
  }
  out.last_version = m->last_version();
  out.next_message_seq = m->next_message_seq();
  out.acked_message_seq = m->acked_message_seq();
  if (const auto* index = m->versions()) {
    out.versions.reserve(index->size());
    uint64_t previous = 0;
    for (const fb::VersionIndexEntry* e : *index) {
      if (e->version() <= previous || e->reason() > kMaxVersionReason) {
        return Bad(kWhat, "version index out of order or with an unknown reason");
      }
      previous = e->version();
      out.versions.push_back({e->version(), e->written_unix_ms(), e->reason()});
    }
  }
  return out;
}

std::string EncodeVersionRecord(const VersionRecord& r) {
  flatbuffers::FlatBufferBuilder fbb(r.payload.size() + 128);
  auto payload = Bytes(fbb, r.payload);
  auto codec = fbb.CreateString(r.codec);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::VersionPartner>>> partners;
  if (!r.partners.empty()) {
    std::vector<flatbuffers::Offset<fb::VersionPartner>> list;
    list.reserve(r.partners.size());
    for (const ProfileLocation& p : r.partners) {
      auto store = fbb.CreateString(p.store);
      auto key = Bytes(fbb, p.key);
      list.push_back(fb::CreateVersionPartner(fbb, store, key));
    }
    partners = fbb.CreateVector(list);
  }
  auto root = fb::CreateVersionRecord(
      fbb, kFormatVersion, r.version, payload, MaskCrc(Crc32c(r.payload)), codec, r.written_unix_ms,
      static_cast<fb::VersionReason>(r.reason), r.epoch, r.source_version, partners,
      r.schema_version);
  fb::FinishVersionRecordBuffer(fbb, root);
  return Seal(fbb);
}

Result<VersionRecord> DecodeVersionRecord(std::string_view bytes) {
  constexpr const char* kWhat = "version";
  auto buf = Unseal(bytes, kWhat);
  if (!buf.ok()) return buf.status();
  auto root = VerifiedRoot<fb::VersionRecord>(*buf, fb::VersionRecordIdentifier(), kWhat);
  if (!root.ok()) return root.status();
  const fb::VersionRecord* r = *root;
  if (Status s = CheckFormatVersion(r->format_version(), kWhat); !s.ok()) return s;
  auto reason = static_cast<uint8_t>(r->reason());
  if (reason > kMaxVersionReason) return Bad(kWhat, "unknown reason " + std::to_string(reason));
  VersionRecord out;
  out.version = r->version();
  out.payload = BytesOf(r->payload());
  out.codec = StringOf(r->codec());
  out.written_unix_ms = r->written_unix_ms();
  out.reason = static_cast<VersionReason>(reason);
  out.epoch = r->epoch();
  out.source_version = r->source_version();
  out.schema_version = r->schema_version();
  if (const auto* partners = r->partners()) {
    for (const fb::VersionPartner* p : *partners) {
      if (!p) return Bad(kWhat, "empty partner entry");
      out.partners.push_back({StringOf(p->store()), BytesOf(p->key())});
    }
  }
  if (Status s = CheckPayload(out.payload, r->payload_crc32c(), kWhat); !s.ok()) return s;
  return out;
}

std::string EncodeMessageRecord(const MessageRecord& r) {
  flatbuffers::FlatBufferBuilder fbb(r.payload.size() + 64);
  auto payload = Bytes(fbb, r.payload);
  auto root = fb::CreateMessageRecord(fbb, kFormatVersion, r.sequence, payload,
                                      MaskCrc(Crc32c(r.payload)), r.sent_unix_ms);
  fb::FinishMessageRecordBuffer(fbb, root);
  return Seal(fbb);
}

Result<MessageRecord> DecodeMessageRecord(std::string_view bytes) {
  constexpr const char* kWhat = "message";
  auto buf = Unseal(bytes, kWhat);
  if (!buf.ok()) return buf.status();
  auto root = VerifiedRoot<fb::MessageRecord>(*buf, fb::MessageRecordIdentifier(), kWhat);
  if (!root.ok()) return root.status();
  const fb::MessageRecord* r = *root;
  if (Status s = CheckFormatVersion(r->format_version(), kWhat); !s.ok()) return s;
  MessageRecord out;
  out.sequence = r->sequence();
  out.payload = BytesOf(r->payload());
  out.sent_unix_ms = r->sent_unix_ms();
  if (Status s = CheckPayload(out.payload, r->payload_crc32c(), kWhat); !s.ok()) return s;
  return out;
}

std::string EncodeManifest(const Manifest& m) {
  flatbuffers::FlatBufferBuilder fbb(256);
  std::vector<flatbuffers::Offset<fb::StoreEntry>> stores;
  stores.reserve(m.stores.size());
  for (const StoreEntry& s : m.stores) {
    auto name = fbb.CreateString(s.name);
    auto codec = fbb.CreateString(s.codec);
    stores.push_back(
        fb::CreateStoreEntry(fbb, name, codec, Bytes(fbb, s.schema), s.created_unix_ms));
  }
  auto stores_vec = fbb.CreateVector(stores);
  auto writer = fbb.CreateString(m.last_writer);
  auto root = fb::CreateManifest(fbb, m.format_version, m.created_unix_ms, m.last_incarnation,
                                 stores_vec, writer, m.user_id_index);
  fb::FinishManifestBuffer(fbb, root);
  return Seal(fbb);
}

Result<Manifest> DecodeManifest(std::string_view bytes) {
  constexpr const char* kWhat = "manifest";
  auto buf = Unseal(bytes, kWhat);
  if (!buf.ok()) return buf.status();
  auto root = VerifiedRoot<fb::Manifest>(*buf, fb::ManifestIdentifier(), kWhat);
  if (!root.ok()) return root.status();
  const fb::Manifest* m = *root;
  if (m->format_version() == 0) return Bad(kWhat, "format version missing");
  Manifest out;
  out.format_version = m->format_version();
  out.created_unix_ms = m->created_unix_ms();
  out.last_incarnation = m->last_incarnation();
  out.last_writer = StringOf(m->last_writer());
  out.user_id_index = m->user_id_index();
  if (const auto* stores = m->stores()) {
    for (const fb::StoreEntry* s : *stores) {
      if (s == nullptr || s->name() == nullptr) return Bad(kWhat, "store entry without a name");
      out.stores.push_back(StoreEntry{s->name()->str(), StringOf(s->codec()), BytesOf(s->schema()),
                                      s->created_unix_ms()});
    }
  }
  return out;
}

}  // namespace holdfast::internal
