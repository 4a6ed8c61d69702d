// Golden files of the on-disk format (issue 11, "format drift"). tests/golden/ keeps every record
// type and key encoding exactly as format 1 wrote it; every later build must decode each file to
// the values spelled out below. The record tests elsewhere only round-trip through today's encoder,
// so a renumbered field, a changed default or a reordered enum would pass them; it fails here.
//
// The files are never regenerated or edited (tests/golden/README.md). They were written once by
//   HOLDFAST_WRITE_GOLDEN=1 foundation_test --gtest_filter='FormatGolden*'
// which creates missing files from today's encoders and fails rather than overwrite one that
// differs. Normal runs only read them.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crc32c.h"
#include "flatbuffers/base.h"
#include "key_codec.h"
#include "records.h"
#include "test_util.h"

namespace holdfast::internal {
namespace {

using namespace std::string_literals;

// The format version that wrote the v1_* files.
constexpr uint32_t kGoldenFormatVersion = 1;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr uint64_t kUint64Max = std::numeric_limits<uint64_t>::max();

// ---- Golden files: read, or (HOLDFAST_WRITE_GOLDEN=1 only) written once ----

bool WriteMode() {
  const char* mode = std::getenv("HOLDFAST_WRITE_GOLDEN");
  return mode != nullptr && std::string_view(mode) == "1";
}

std::string GoldenPath(std::string_view file) {
  return std::string(HOLDFAST_GOLDEN_DIR) + "/" + std::string(file);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Reads golden `file` into `out`. In write mode, first creates it from `written_today` (today's
// encoder on the golden values) if it is missing; an existing file is never replaced.
::testing::AssertionResult LoadGolden(std::string_view file, const std::string& written_today,
                                      std::string* out) {
  const std::string path = GoldenPath(file);
  if (WriteMode() && !std::filesystem::exists(path)) {
    if (kFormatVersion != kGoldenFormatVersion) {
      return ::testing::AssertionFailure()
             << path << ": v" << kGoldenFormatVersion << " files can only be written by a format "
             << kGoldenFormatVersion << " build; this one writes format " << kFormatVersion;
    }
    std::ofstream write(path, std::ios::binary);
    write << written_today;
    if (!write.flush()) return ::testing::AssertionFailure() << "cannot write " << path;
  }
  if (!ReadFile(path, out)) {
    return ::testing::AssertionFailure()
           << "cannot read golden file " << path << " (see tests/golden/README.md)";
  }
  if (WriteMode() && *out != written_today) {
    return ::testing::AssertionFailure()
           << path << " exists with other bytes than this build writes; golden files are never "
           << "regenerated or edited (tests/golden/README.md)";
  }
  return ::testing::AssertionSuccess();
}

// ---- The golden values. Each Golden*() is the generator's input; each ExpectGolden*() spells
// the same values out again, field by field, as the format's contract. ----

ProfileRecord GoldenProfileRecord() {
  ProfileRecord r;
  r.version = 0xFEDCBA9876543210;
  r.payload =
      "\x00\x01\xfe\xff{\"coins\":18446744073709551615,\"name\":\"Zo\xc3\xab \xf0\x9f\x90\x89\"}"
      "\x00"s;
  r.codec = "flatbuffer:Jo\xc3\xa3o.Perfil";
  r.updated_unix_ms = kInt64Max;
  r.epoch = 0xFFFFFFFFFFFFFFFE;
  return r;
}

void ExpectGoldenProfileRecord(const ProfileRecord& r) {
  EXPECT_EQ(r.version, 0xFEDCBA9876543210u);
  // Binary and UTF-8: NUL, 0xfe 0xff, "Zoë 🐉", a trailing NUL.
  EXPECT_EQ(
      r.payload,
      "\x00\x01\xfe\xff{\"coins\":18446744073709551615,\"name\":\"Zo\xc3\xab \xf0\x9f\x90\x89\"}"
      "\x00"s);
  EXPECT_EQ(r.codec, "flatbuffer:Jo\xc3\xa3o.Perfil");  // "flatbuffer:João.Perfil"
  EXPECT_EQ(r.updated_unix_ms, 9'223'372'036'854'775'807);
  EXPECT_EQ(r.epoch, 0xFFFFFFFFFFFFFFFEu);
}

// Every field at its default: the flatbuffer omits the scalars, so reading it relies on the
// schema defaults staying what they are (schema/README.md rule 5).
void ExpectDefaultProfileRecord(const ProfileRecord& r) {
  EXPECT_EQ(r.version, 0u);
  EXPECT_EQ(r.payload, "");
  EXPECT_EQ(r.codec, "");
  EXPECT_EQ(r.updated_unix_ms, 0);
  EXPECT_EQ(r.epoch, 0u);
}

// The version index of v1_profile_meta.bin holds every reason once, in a scrambled order: the
// stored numbers, and the VersionReason each must keep meaning.
constexpr uint8_t kIndexReasonNumbers[] = {7, 0, 1, 2, 8, 4, 5, 3, 6, 9};
constexpr VersionReason kIndexReasons[] = {
    VersionReason::kCreate,     VersionReason::kSave,     VersionReason::kEndSession,
    VersionReason::kHandoff,    VersionReason::kSteal,    VersionReason::kCorruptionRecovery,
    VersionReason::kQuarantine, VersionReason::kRollback, VersionReason::kAdmin,
    VersionReason::kShutdown};

ProfileMeta GoldenProfileMeta() {
  ProfileMeta m;
  m.epoch = 0xE000000000000001;
  m.lock = SessionLock{.incarnation = 0xA1B2C3D4E5F60718,
                       .session_id = 0x100000000,
                       .epoch = 0xE000000000000001,
                       .acquired_unix_ms = 9'223'372'036'854'775'000,
                       .renewed_unix_ms = kInt64Max,
                       .owner = "host-\xc3\xa9t\xc3\xa9:4242 \xe2\x9c\x93"};
  m.release_request = ReleaseRequest{
      .incarnation = 0xA1B2C3D4E5F60719, .session_id = kUint64Max, .requested_unix_ms = kInt64Min};
  m.load_count = kUint64Max;
  m.first_session_unix_ms = 0x0102030405060708;
  m.created_unix_ms = 1'767'225'600'001;
  m.updated_unix_ms = 4'102'444'800'000;
  m.user_ids = {kInt64Min, -1, 1, 123'456'789'012'345'678, kInt64Max};
  m.metadata = {{"empty", ""},
                {"guild", "\xe2\x9a\x94 Red Dragons \xe2\x9a\x94"},
                {"tier", "\x00\x01\xff"s},
                {"\303\261ame \xf0\x9f\x90\x89", "\xff\xfe\x00"s}};
  m.last_version = 0xFFFFFFFFFFFFFFFD;
  m.next_message_seq = 0x8000000000000000;
  m.acked_message_seq = 0x7FFFFFFFFFFFFFFF;
  for (uint64_t i = 0; i < 10; ++i) {
    int64_t written =
        i == 0 ? -86'400'000 : 1'767'225'600'000 + static_cast<int64_t>(i) * 3'600'000;
    m.versions.push_back({0xFFFFFFFFFFFFFFF4 + i, written, kIndexReasonNumbers[i]});
  }
  return m;
}

void ExpectGoldenProfileMeta(const ProfileMeta& m) {
  EXPECT_EQ(m.epoch, 0xE000000000000001u);
  ASSERT_TRUE(m.lock.has_value());
  EXPECT_EQ(m.lock->incarnation, 0xA1B2C3D4E5F60718u);
  EXPECT_EQ(m.lock->session_id, 4'294'967'296u);  // one past 32 bits
  EXPECT_EQ(m.lock->epoch, 0xE000000000000001u);
  EXPECT_EQ(m.lock->acquired_unix_ms, 9'223'372'036'854'775'000);
  EXPECT_EQ(m.lock->renewed_unix_ms, 9'223'372'036'854'775'807);
  EXPECT_EQ(m.lock->owner, "host-\xc3\xa9t\xc3\xa9:4242 \xe2\x9c\x93");  // "host-été:4242 ✓"
  ASSERT_TRUE(m.release_request.has_value());
  EXPECT_EQ(m.release_request->incarnation, 0xA1B2C3D4E5F60719u);
  EXPECT_EQ(m.release_request->session_id, 18'446'744'073'709'551'615u);
  EXPECT_EQ(m.release_request->requested_unix_ms, -9'223'372'036'854'775'807 - 1);
  EXPECT_EQ(m.load_count, 18'446'744'073'709'551'615u);
  EXPECT_EQ(m.first_session_unix_ms, 0x0102030405060708);
  EXPECT_EQ(m.created_unix_ms, 1'767'225'600'001);
  EXPECT_EQ(m.updated_unix_ms, 4'102'444'800'000);
  EXPECT_EQ(m.user_ids, (std::vector<int64_t>{-9'223'372'036'854'775'807 - 1, -1, 1,
                                              123'456'789'012'345'678, 9'223'372'036'854'775'807}));
  EXPECT_EQ(m.metadata, (std::map<std::string, std::string>{
                            {"empty", ""},
                            {"guild", "\xe2\x9a\x94 Red Dragons \xe2\x9a\x94"},  // ⚔
                            {"tier", "\x00\x01\xff"s},
                            // "ñame 🐉" (ñ in octal: a hex escape would swallow the 'a')
                            {"\303\261ame \xf0\x9f\x90\x89", "\xff\xfe\x00"s}}));
  EXPECT_EQ(m.last_version, 0xFFFFFFFFFFFFFFFDu);
  EXPECT_EQ(m.next_message_seq, 0x8000000000000000u);
  EXPECT_EQ(m.acked_message_seq, 0x7FFFFFFFFFFFFFFFu);
  struct Entry {
    uint64_t version;
    int64_t written_unix_ms;
    int reason;
  };
  constexpr Entry kVersions[] = {
      {0xFFFFFFFFFFFFFFF4, -86'400'000, 7},       {0xFFFFFFFFFFFFFFF5, 1'767'229'200'000, 0},
      {0xFFFFFFFFFFFFFFF6, 1'767'232'800'000, 1}, {0xFFFFFFFFFFFFFFF7, 1'767'236'400'000, 2},
      {0xFFFFFFFFFFFFFFF8, 1'767'240'000'000, 8}, {0xFFFFFFFFFFFFFFF9, 1'767'243'600'000, 4},
      {0xFFFFFFFFFFFFFFFA, 1'767'247'200'000, 5}, {0xFFFFFFFFFFFFFFFB, 1'767'250'800'000, 3},
      {0xFFFFFFFFFFFFFFFC, 1'767'254'400'000, 6}, {0xFFFFFFFFFFFFFFFD, 1'767'258'000'000, 9}};
  ASSERT_EQ(m.versions.size(), std::size(kVersions));
  for (size_t i = 0; i < m.versions.size(); ++i) {
    EXPECT_EQ(m.versions[i].version, kVersions[i].version) << "entry " << i;
    EXPECT_EQ(m.versions[i].written_unix_ms, kVersions[i].written_unix_ms) << "entry " << i;
    EXPECT_EQ(int{m.versions[i].reason}, kVersions[i].reason) << "entry " << i;
    // The stored number keeps its VersionReason meaning.
    EXPECT_EQ(int{m.versions[i].reason}, int{static_cast<uint8_t>(kIndexReasons[i])})
        << "entry " << i << ": VersionReason numbering changed";
  }
}

void ExpectDefaultProfileMeta(const ProfileMeta& m) {
  EXPECT_EQ(m.epoch, 0u);
  EXPECT_FALSE(m.lock.has_value());
  EXPECT_FALSE(m.release_request.has_value());
  EXPECT_EQ(m.load_count, 0u);
  EXPECT_EQ(m.first_session_unix_ms, 0);
  EXPECT_EQ(m.created_unix_ms, 0);
  EXPECT_EQ(m.updated_unix_ms, 0);
  EXPECT_TRUE(m.user_ids.empty());
  EXPECT_TRUE(m.metadata.empty());
  EXPECT_EQ(m.last_version, 0u);
  EXPECT_EQ(m.next_message_seq, 0u);
  EXPECT_EQ(m.acked_message_seq, 0u);
  EXPECT_TRUE(m.versions.empty());
}

VersionRecord GoldenVersionRecord() {
  VersionRecord v;
  v.version = 0xFFFFFFFFFFFFFFF9;
  v.payload = "\xff\x00\x7f{\"hp\":-1,\"t\xc3\xaftre\":\"\xe5\xae\x88\xe3\x82\x8b\"}\x00"s;
  v.codec = "json;charset=utf-8 \xe2\x82\xac";
  v.written_unix_ms = -62'135'596'800'000;  // 0001-01-01
  v.reason = VersionReason::kCorruptionRecovery;
  v.epoch = 0x0123456789ABCDEF;
  v.source_version = 0xFFFFFFFFFFFFFFF5;
  return v;
}

void ExpectGoldenVersionRecord(const VersionRecord& v) {
  EXPECT_EQ(v.version, 0xFFFFFFFFFFFFFFF9u);
  // {"hp":-1,"titre":"守る"} between 0xff 0x00 0x7f and a NUL.
  EXPECT_EQ(v.payload,
            "\xff\x00\x7f{\"hp\":-1,\"t\xc3\xaftre\":\"\xe5\xae\x88\xe3\x82\x8b\"}\x00"s);
  EXPECT_EQ(v.codec, "json;charset=utf-8 \xe2\x82\xac");  // ... €
  EXPECT_EQ(v.written_unix_ms, -62'135'596'800'000);
  EXPECT_EQ(v.reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ(static_cast<uint8_t>(v.reason), 4);
  EXPECT_EQ(v.epoch, 0x0123456789ABCDEFu);
  EXPECT_EQ(v.source_version, 0xFFFFFFFFFFFFFFF5u);
}

void ExpectDefaultVersionRecord(const VersionRecord& v) {
  EXPECT_EQ(v.version, 0u);
  EXPECT_EQ(v.payload, "");
  EXPECT_EQ(v.codec, "");
  EXPECT_EQ(v.written_unix_ms, 0);
  EXPECT_EQ(v.reason, VersionReason::kSave);  // `reason: VersionReason = Save`, absent from the file
  EXPECT_EQ(v.epoch, 0u);
  EXPECT_EQ(v.source_version, 0u);
}

// A store name of the maximum length, 64 bytes.
constexpr std::string_view kLongStore =
    "abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";

Manifest GoldenManifest() {
  Manifest m;
  m.format_version = kGoldenFormatVersion;
  m.created_unix_ms = 1'767'225'600'000;
  m.last_incarnation = 0xFFFFFFFF00000001;
  m.stores = {{"Guilds", "flatbuffer:Guild", "BFBS\x00\x01\xfe\xff"s, 1'767'225'600'001},
              {"Players_EU-1.v2", "json", "", kInt64Max},
              {std::string(kLongStore), "bytes", "\x00"s, -1}};
  m.last_writer = "holdfast 0.1.0+g\xc3\xb6lden";
  return m;
}

void ExpectGoldenManifest(const Manifest& m) {
  EXPECT_EQ(m.format_version, 1u);
  EXPECT_EQ(m.created_unix_ms, 1'767'225'600'000);
  EXPECT_EQ(m.last_incarnation, 0xFFFFFFFF00000001u);
  EXPECT_EQ(m.last_writer, "holdfast 0.1.0+g\xc3\xb6lden");  // "holdfast 0.1.0+gölden"
  ASSERT_EQ(m.stores.size(), 3u);
  EXPECT_EQ(m.stores[0].name, "Guilds");
  EXPECT_EQ(m.stores[0].codec, "flatbuffer:Guild");
  EXPECT_EQ(m.stores[0].schema, "BFBS\x00\x01\xfe\xff"s);
  EXPECT_EQ(m.stores[0].created_unix_ms, 1'767'225'600'001);
  EXPECT_EQ(m.stores[1].name, "Players_EU-1.v2");
  EXPECT_EQ(m.stores[1].codec, "json");
  EXPECT_EQ(m.stores[1].schema, "");
  EXPECT_EQ(m.stores[1].created_unix_ms, 9'223'372'036'854'775'807);
  EXPECT_EQ(m.stores[2].name, "abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
  EXPECT_EQ(m.stores[2].codec, "bytes");
  EXPECT_EQ(m.stores[2].schema, "\x00"s);
  EXPECT_EQ(m.stores[2].created_unix_ms, -1);
}

Manifest DefaultManifest() {
  Manifest m;
  m.format_version = kGoldenFormatVersion;
  return m;
}

void ExpectDefaultManifest(const Manifest& m) {
  EXPECT_EQ(m.format_version, 1u);
  EXPECT_EQ(m.created_unix_ms, 0);
  EXPECT_EQ(m.last_incarnation, 0u);
  EXPECT_TRUE(m.stores.empty());
  EXPECT_EQ(m.last_writer, "");
}

// ---- Every golden record file: its name, today's encoding of its values, its decoder ----

struct GoldenRecord {
  const char* file;
  const char* type;
  std::string (*encode_today)();
  Status (*decode)(std::string_view);
};

const std::vector<GoldenRecord>& GoldenRecords() {
  static const auto* const kRecords = new std::vector<GoldenRecord>{
      {"v1_profile_record.bin", "profile record",
       [] { return EncodeProfileRecord(GoldenProfileRecord()); },
       [](std::string_view b) { return DecodeProfileRecord(b).status(); }},
      {"v1_profile_record_defaults.bin", "profile record",
       [] { return EncodeProfileRecord(ProfileRecord{}); },
       [](std::string_view b) { return DecodeProfileRecord(b).status(); }},
      {"v1_profile_meta.bin", "profile meta", [] { return EncodeProfileMeta(GoldenProfileMeta()); },
       [](std::string_view b) { return DecodeProfileMeta(b).status(); }},
      {"v1_profile_meta_defaults.bin", "profile meta",
       [] { return EncodeProfileMeta(ProfileMeta{}); },
       [](std::string_view b) { return DecodeProfileMeta(b).status(); }},
      {"v1_version_record.bin", "version record",
       [] { return EncodeVersionRecord(GoldenVersionRecord()); },
       [](std::string_view b) { return DecodeVersionRecord(b).status(); }},
      {"v1_version_record_defaults.bin", "version record",
       [] { return EncodeVersionRecord(VersionRecord{}); },
       [](std::string_view b) { return DecodeVersionRecord(b).status(); }},
      {"v1_manifest.bin", "manifest", [] { return EncodeManifest(GoldenManifest()); },
       [](std::string_view b) { return DecodeManifest(b).status(); }},
      {"v1_manifest_defaults.bin", "manifest", [] { return EncodeManifest(DefaultManifest()); },
       [](std::string_view b) { return DecodeManifest(b).status(); }},
  };
  return *kRecords;
}

const GoldenRecord& Golden(std::string_view file) {
  for (const GoldenRecord& g : GoldenRecords()) {
    if (g.file == file) return g;
  }
  ADD_FAILURE() << "no golden record " << file;
  return GoldenRecords().front();
}

// Decodes golden `file` with `decode` and checks it with `expect`, also from an odd address; then
// checks that today's encoder, given the same values, decodes back to them too.
template <typename Decoded>
void CheckGoldenRecord(std::string_view file, Result<Decoded> (*decode)(std::string_view),
                       void (*expect)(const Decoded&)) {
  const GoldenRecord& golden = Golden(file);
  std::string bytes;
  ASSERT_TRUE(LoadGolden(file, golden.encode_today(), &bytes));
  {
    SCOPED_TRACE(std::string(file) + " as stored");
    auto decoded = decode(bytes);
    ASSERT_OK(decoded);
    expect(*decoded);
  }
  {
    // Values read from storage carry no alignment guarantee.
    SCOPED_TRACE(std::string(file) + " at an odd address");
    std::string shifted = "x" + bytes;
    auto decoded = decode(std::string_view(shifted).substr(1));
    ASSERT_OK(decoded);
    expect(*decoded);
  }
  {
    SCOPED_TRACE(std::string(file) + " values through today's encoder");
    auto decoded = decode(golden.encode_today());
    ASSERT_OK(decoded);
    expect(*decoded);
  }
}

TEST(FormatGoldenTest, ProfileRecordDecodesToItsValues) {
  CheckGoldenRecord("v1_profile_record.bin", DecodeProfileRecord, ExpectGoldenProfileRecord);
  CheckGoldenRecord("v1_profile_record_defaults.bin", DecodeProfileRecord,
                    ExpectDefaultProfileRecord);
}

TEST(FormatGoldenTest, ProfileMetaDecodesToItsValues) {
  CheckGoldenRecord("v1_profile_meta.bin", DecodeProfileMeta, ExpectGoldenProfileMeta);
  CheckGoldenRecord("v1_profile_meta_defaults.bin", DecodeProfileMeta, ExpectDefaultProfileMeta);
}

TEST(FormatGoldenTest, VersionRecordDecodesToItsValues) {
  CheckGoldenRecord("v1_version_record.bin", DecodeVersionRecord, ExpectGoldenVersionRecord);
  CheckGoldenRecord("v1_version_record_defaults.bin", DecodeVersionRecord,
                    ExpectDefaultVersionRecord);
}

TEST(FormatGoldenTest, ManifestDecodesToItsValues) {
  CheckGoldenRecord("v1_manifest.bin", DecodeManifest, ExpectGoldenManifest);
  CheckGoldenRecord("v1_manifest_defaults.bin", DecodeManifest, ExpectDefaultManifest);
  // The manifest's reserved key in the default family is part of the format too.
  EXPECT_EQ(kManifestKey, "holdfast.manifest");
}

// Each golden record read by every other decoder is refused: the file identifiers differ.
TEST(FormatGoldenTest, GoldenRecordsAreRefusedByTheOtherDecoders) {
  for (const GoldenRecord& g : GoldenRecords()) {
    std::string bytes;
    ASSERT_TRUE(LoadGolden(g.file, g.encode_today(), &bytes));
    for (const GoldenRecord& other : GoldenRecords()) {
      if (std::string_view(g.type) == other.type) continue;
      EXPECT_CODE(other.decode(bytes), kCorruption) << g.file << " read by " << other.file;
    }
  }
}

// Flatbuffers' builder is deterministic: the same calls in the same order give the same bytes
// (no hashing, no addresses, no clocks). So with the flatbuffers release that wrote the files,
// today's encoders reproduce them byte for byte, and a difference means an encoder changed what
// it writes as format 1 — which every older format-1 build will then read — and needs a look even
// while all decode tests pass. Another flatbuffers release may lay out the same values otherwise
// (still readable by every build), so the byte comparison is skipped there.
TEST(FormatGoldenTest, TodaysEncodersRewriteTheGoldenBytes) {
  for (const GoldenRecord& g : GoldenRecords()) {
    EXPECT_EQ(g.encode_today(), g.encode_today()) << g.file << ": encoder not deterministic";
  }
  if (FLATBUFFERS_VERSION_MAJOR != 2 || FLATBUFFERS_VERSION_MINOR != 0 ||
      FLATBUFFERS_VERSION_REVISION != 8) {
    GTEST_SKIP() << "the golden files were written with flatbuffers 2.0.8; this build uses "
                 << FLATBUFFERS_VERSION_MAJOR << "." << FLATBUFFERS_VERSION_MINOR << "."
                 << FLATBUFFERS_VERSION_REVISION;
  }
  if (kFormatVersion != kGoldenFormatVersion) {
    GTEST_SKIP() << "this build writes format " << kFormatVersion;
  }
  for (const GoldenRecord& g : GoldenRecords()) {
    std::string bytes;
    ASSERT_TRUE(LoadGolden(g.file, g.encode_today(), &bytes));
    EXPECT_TRUE(bytes == g.encode_today()) << g.file << ": today's encoder writes other bytes";
  }
}

// ---- Damage: every flip and truncation of a golden record is Corruption, never a crash ----

std::string Reseal(std::string body) {
  uint32_t masked = MaskCrc(Crc32c(body));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return body;
}

// `payload` is the record's checksummed payload (empty if it has none): with a valid envelope,
// damage inside it is still caught, by the payload checksum.
void ExpectDamageIsCorruption(std::string_view file, std::string_view payload = {}) {
  SCOPED_TRACE(file);
  const GoldenRecord& golden = Golden(file);
  std::string bytes;
  ASSERT_TRUE(LoadGolden(file, golden.encode_today(), &bytes));
  ASSERT_OK(golden.decode(bytes));
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (unsigned char mask : {0x01, 0x10, 0x80, 0xff}) {
      std::string damaged = bytes;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      EXPECT_CODE(golden.decode(damaged), kCorruption) << "byte " << pos << " ^ " << int{mask};
    }
  }
  for (size_t len = 0; len < bytes.size(); ++len) {
    EXPECT_CODE(golden.decode(std::string_view(bytes).substr(0, len)), kCorruption)
        << "truncated to " << len;
  }
  EXPECT_CODE(golden.decode(bytes + '\0'), kCorruption) << "with a trailing byte";

  // With the envelope checksum made valid again, the identifier check, the Verifier, the format
  // version and the payload checksum stand between the damage and the decoder. A flipped byte
  // may still make a valid record (a timestamp's low byte, padding); nothing may crash.
  const std::string body = bytes.substr(0, bytes.size() - 4);
  const size_t payload_at = payload.empty() ? std::string::npos : body.find(payload);
  ASSERT_TRUE(payload.empty() || payload_at != std::string::npos) << "payload not in the file";
  for (size_t pos = 0; pos < body.size(); ++pos) {
    const bool in_identifier = pos >= 4 && pos < 8;
    const bool in_payload =
        payload_at != std::string::npos && pos >= payload_at && pos < payload_at + payload.size();
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string damaged = body;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      Status s = golden.decode(Reseal(damaged));
      if (in_identifier || in_payload) {
        EXPECT_CODE(s, kCorruption) << "resealed byte " << pos << " ^ " << int{mask};
      } else {
        EXPECT_TRUE(s.ok() || s.code() == StatusCode::kCorruption)
            << "resealed byte " << pos << " ^ " << int{mask} << ": " << s;
      }
    }
  }
  // Cutting the end of the flatbuffer is caught unless only its trailing zero padding went.
  for (size_t len = 0; len < body.size(); ++len) {
    Status s = golden.decode(Reseal(body.substr(0, len)));
    if (s.ok()) {
      EXPECT_EQ(body.find_first_not_of('\0', len), std::string::npos)
          << "resealed, truncated to " << len << ": decoded although non-padding bytes went";
    } else {
      EXPECT_CODE(s, kCorruption) << "resealed, truncated to " << len;
    }
  }
}

TEST(FormatGoldenTest, DamagedProfileRecordIsCorruption) {
  ExpectDamageIsCorruption("v1_profile_record.bin", GoldenProfileRecord().payload);
  ExpectDamageIsCorruption("v1_profile_record_defaults.bin");
}

TEST(FormatGoldenTest, DamagedProfileMetaIsCorruption) {
  ExpectDamageIsCorruption("v1_profile_meta.bin");
  ExpectDamageIsCorruption("v1_profile_meta_defaults.bin");
}

TEST(FormatGoldenTest, DamagedVersionRecordIsCorruption) {
  ExpectDamageIsCorruption("v1_version_record.bin", GoldenVersionRecord().payload);
  ExpectDamageIsCorruption("v1_version_record_defaults.bin");
}

TEST(FormatGoldenTest, DamagedManifestIsCorruption) {
  ExpectDamageIsCorruption("v1_manifest.bin");
  ExpectDamageIsCorruption("v1_manifest_defaults.bin");
}

// ---- Keys: exact bytes, and decoding gives the parts back ----

// The profile key of v1_profile_key.bin: "player/Zoë", NUL, 0xff, "🐉" (17 bytes).
const std::string kGoldenProfileKey = "player/Zo\xc3\xab\x00\xff\xf0\x9f\x90\x89"s;

// The profile key of v1_version_key.bin, of the maximum length (256 bytes, so the big-endian
// length prefix is 01 00): NUL, 0xff, 63 × "🐉", 'z', 0x01.
std::string GoldenLongKey() {
  std::string key = "\x00\xff"s;
  for (int i = 0; i < 63; ++i) key += "\xf0\x9f\x90\x89";
  key += "z\x01";
  return key;
}

constexpr uint64_t kGoldenVersionNumber = 0xF102030405060708;

TEST(FormatGoldenTest, ProfileKeyBytesAndParts) {
  const std::string expected =
      "\x0f"
      "Players_EU-1.v2"
      "\x00\x11"
      "player/Zo\xc3\xab\x00\xff\xf0\x9f\x90\x89"s;
  ASSERT_EQ(expected.size(), 1u + 15 + 2 + 17);
  std::string bytes;
  ASSERT_TRUE(LoadGolden("v1_profile_key.bin",
                         EncodeProfileKey("Players_EU-1.v2", kGoldenProfileKey), &bytes));
  EXPECT_EQ(bytes, expected);
  auto decoded = DecodeKey(bytes, /*with_number=*/false);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->store, "Players_EU-1.v2");
  EXPECT_EQ(decoded->key, kGoldenProfileKey);
  EXPECT_FALSE(decoded->number.has_value());
  EXPECT_CODE(DecodeKey(bytes, /*with_number=*/true), kCorruption);
  // Keys are our own byte layout, not flatbuffers: today's encoder must write exactly these bytes.
  EXPECT_EQ(EncodeProfileKey("Players_EU-1.v2", kGoldenProfileKey), expected);
}

TEST(FormatGoldenTest, VersionKeyBytesAndParts) {
  const std::string key = GoldenLongKey();
  ASSERT_EQ(key.size(), 256u);
  const std::string expected =
      "\x40" + std::string(kLongStore) + "\x01\x00"s + key + "\xf1\x02\x03\x04\x05\x06\x07\x08";
  ASSERT_EQ(expected.size(), 1u + 64 + 2 + 256 + 8);
  std::string bytes;
  ASSERT_TRUE(LoadGolden("v1_version_key.bin",
                         EncodeVersionKey(kLongStore, key, kGoldenVersionNumber), &bytes));
  EXPECT_EQ(bytes, expected);
  auto decoded = DecodeKey(bytes, /*with_number=*/true);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->store, kLongStore);
  EXPECT_EQ(decoded->key, key);
  ASSERT_TRUE(decoded->number.has_value());
  EXPECT_EQ(*decoded->number, 0xF102030405060708u);
  EXPECT_CODE(DecodeKey(bytes, /*with_number=*/false), kCorruption);
  EXPECT_EQ(EncodeVersionKey(kLongStore, key, kGoldenVersionNumber), expected);
  // The version key is its profile key followed by the number.
  EXPECT_EQ(bytes.substr(0, bytes.size() - 8), EncodeProfileKey(kLongStore, key));
}

TEST(FormatGoldenTest, DamagedKeysAreCorruption) {
  for (auto [file, with_number] :
       {std::pair{"v1_profile_key.bin", false}, std::pair{"v1_version_key.bin", true}}) {
    std::string bytes;
    ASSERT_TRUE(ReadFile(GoldenPath(file), &bytes)) << file;
    for (size_t len = 0; len < bytes.size(); ++len) {
      EXPECT_CODE(DecodeKey(std::string_view(bytes).substr(0, len), with_number), kCorruption)
          << file << " truncated to " << len;
    }
    EXPECT_CODE(DecodeKey(bytes + '\0', with_number), kCorruption) << file << " + 1 byte";
    // The length prefixes: a store length of 0 or past the limit, a key length off by one.
    for (char store_len : {'\x00', '\x41', '\xff'}) {
      std::string damaged = bytes;
      damaged[0] = store_len;
      EXPECT_CODE(DecodeKey(damaged, with_number), kCorruption) << file << " store length";
    }
    const size_t key_len_at = 1 + static_cast<unsigned char>(bytes[0]);
    for (unsigned char mask : {0x01, 0x02, 0x80}) {
      std::string damaged = bytes;
      damaged[key_len_at + 1] = static_cast<char>(damaged[key_len_at + 1] ^ mask);
      EXPECT_CODE(DecodeKey(damaged, with_number), kCorruption) << file << " key length";
    }
    // A store name byte outside the allowed set.
    std::string damaged = bytes;
    damaged[1] = '/';
    EXPECT_CODE(DecodeKey(damaged, with_number), kCorruption) << file << " store name";
  }
}

// Every file in tests/golden/ is checked by a test above, and none is missing.
TEST(FormatGoldenTest, EveryGoldenFileIsChecked) {
  std::set<std::string> expected = {"README.md", "v1_profile_key.bin", "v1_version_key.bin"};
  for (const GoldenRecord& g : GoldenRecords()) expected.insert(g.file);
  std::set<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(HOLDFAST_GOLDEN_DIR)) {
    present.insert(entry.path().filename().string());
  }
  EXPECT_EQ(present, expected);
}

}  // namespace
}  // namespace holdfast::internal
