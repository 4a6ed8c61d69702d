// Round trips of every on-disk record type, and damage of every kind giving Corruption.
#include "records.h"

#include <gtest/gtest.h>

#include <random>

#include "crc32c.h"
#include "test_util.h"

namespace holdfast::internal {
namespace {

ProfileRecord SampleProfile() {
  ProfileRecord r;
  r.version = 42;
  r.payload = std::string("coins=100\0items=[sword]", 23);
  r.codec = "bytes";
  r.updated_unix_ms = 1'767'225'600'123;
  r.epoch = 7;
  return r;
}

ProfileMeta SampleMeta() {
  ProfileMeta m;
  m.epoch = 9;
  m.lock = SessionLock{3, 11, 9, 1000, 2000, "host-a:1234"};
  m.release_request = ReleaseRequest{4, 1, 2500};
  m.load_count = 5;
  m.first_session_unix_ms = 100;
  m.created_unix_ms = 90;
  m.updated_unix_ms = 2000;
  m.user_ids = {-5, 17, 123456789012345};
  m.metadata = {{"guild", "red"}, {"tier", std::string("\0\1", 2)}};
  m.last_version = 42;
  m.next_message_seq = 8;
  m.acked_message_seq = 6;
  m.versions = {{40, 1000, 0}, {41, 2000, 5}, {42, 3000, 3}};
  return m;
}

VersionRecord SampleVersion() {
  VersionRecord v;
  v.version = 41;
  v.payload = "old data";
  v.codec = "json";
  v.written_unix_ms = 55;
  v.reason = VersionReason::kRollback;
  v.epoch = 6;
  v.source_version = 12;
  return v;
}

Manifest SampleManifest() {
  Manifest m;
  m.created_unix_ms = 10;
  m.last_incarnation = 77;
  m.stores = {{"Players", "bytes", "", 11}, {"Guilds", "flatbuffer:Guild", "bfbs\0x", 12}};
  m.last_writer = "holdfast 0.1.0";
  return m;
}

TEST(RecordsTest, ProfileRecordRoundTrips) {
  ProfileRecord in = SampleProfile();
  auto out = DecodeProfileRecord(EncodeProfileRecord(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->version, in.version);
  EXPECT_EQ(out->payload, in.payload);
  EXPECT_EQ(out->codec, in.codec);
  EXPECT_EQ(out->updated_unix_ms, in.updated_unix_ms);
  EXPECT_EQ(out->epoch, in.epoch);
}

TEST(RecordsTest, EmptyPayloadRoundTrips) {
  ProfileRecord in;
  in.version = 1;
  auto out = DecodeProfileRecord(EncodeProfileRecord(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->payload, "");
  EXPECT_EQ(out->version, 1u);
}

TEST(RecordsTest, ProfileMetaRoundTrips) {
  ProfileMeta in = SampleMeta();
  auto out = DecodeProfileMeta(EncodeProfileMeta(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->epoch, in.epoch);
  ASSERT_TRUE(out->lock.has_value());
  EXPECT_EQ(out->lock->incarnation, 3u);
  EXPECT_EQ(out->lock->session_id, 11u);
  EXPECT_EQ(out->lock->epoch, 9u);
  EXPECT_EQ(out->lock->acquired_unix_ms, 1000);
  EXPECT_EQ(out->lock->renewed_unix_ms, 2000);
  EXPECT_EQ(out->lock->owner, "host-a:1234");
  ASSERT_TRUE(out->release_request.has_value());
  EXPECT_EQ(out->release_request->incarnation, 4u);
  EXPECT_EQ(out->release_request->session_id, 1u);
  EXPECT_EQ(out->release_request->requested_unix_ms, 2500);
  EXPECT_EQ(out->load_count, 5u);
  EXPECT_EQ(out->first_session_unix_ms, 100);
  EXPECT_EQ(out->created_unix_ms, 90);
  EXPECT_EQ(out->updated_unix_ms, 2000);
  EXPECT_EQ(out->user_ids, in.user_ids);
  EXPECT_EQ(out->metadata, in.metadata);
  EXPECT_EQ(out->last_version, 42u);
  EXPECT_EQ(out->next_message_seq, 8u);
  EXPECT_EQ(out->acked_message_seq, 6u);
  EXPECT_EQ(out->versions, in.versions);
}

TEST(RecordsTest, FreeProfileMetaHasNoLock) {
  ProfileMeta in;
  in.epoch = 3;
  auto out = DecodeProfileMeta(EncodeProfileMeta(in));
  ASSERT_OK(out);
  EXPECT_FALSE(out->lock.has_value());
  EXPECT_FALSE(out->release_request.has_value());
  EXPECT_EQ(out->epoch, 3u);
}

TEST(RecordsTest, VersionRecordRoundTrips) {
  VersionRecord in = SampleVersion();
  auto out = DecodeVersionRecord(EncodeVersionRecord(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->version, 41u);
  EXPECT_EQ(out->payload, "old data");
  EXPECT_EQ(out->codec, "json");
  EXPECT_EQ(out->written_unix_ms, 55);
  EXPECT_EQ(out->reason, VersionReason::kRollback);
  EXPECT_EQ(out->epoch, 6u);
  EXPECT_EQ(out->source_version, 12u);
}

TEST(RecordsTest, TradeVersionRecordKeepsItsPartners) {
  VersionRecord in = SampleVersion();
  in.reason = VersionReason::kTrade;
  in.partners = {{"Bank", std::string("vault\0\xff", 7)}, {"Players", "bob"}};
  auto out = DecodeVersionRecord(EncodeVersionRecord(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->reason, VersionReason::kTrade);
  EXPECT_EQ(out->partners, in.partners);
  // Without partners the field is absent: the bytes are those format 1 wrote before trades.
  VersionRecord plain = SampleVersion();
  auto decoded = DecodeVersionRecord(EncodeVersionRecord(plain));
  ASSERT_OK(decoded);
  EXPECT_TRUE(decoded->partners.empty());
}

TEST(RecordsTest, ManifestRoundTrips) {
  Manifest in = SampleManifest();
  auto out = DecodeManifest(EncodeManifest(in));
  ASSERT_OK(out);
  EXPECT_EQ(out->format_version, kFormatVersion);
  EXPECT_EQ(out->created_unix_ms, 10);
  EXPECT_EQ(out->last_incarnation, 77u);
  EXPECT_EQ(out->last_writer, "holdfast 0.1.0");
  ASSERT_EQ(out->stores.size(), 2u);
  EXPECT_EQ(out->stores[1].name, "Guilds");
  EXPECT_EQ(out->stores[1].codec, "flatbuffer:Guild");
  EXPECT_EQ(out->stores[1].schema, in.stores[1].schema);
  EXPECT_EQ(out->stores[1].created_unix_ms, 12);
}

// Applies `check` to the encoding of every record type.
struct Encoded {
  const char* name;
  std::string bytes;
  std::function<Status(std::string_view)> decode;
};

std::vector<Encoded> AllEncodings() {
  return {
      {"profile", EncodeProfileRecord(SampleProfile()),
       [](std::string_view b) { return DecodeProfileRecord(b).status(); }},
      {"meta", EncodeProfileMeta(SampleMeta()),
       [](std::string_view b) { return DecodeProfileMeta(b).status(); }},
      {"version", EncodeVersionRecord(SampleVersion()),
       [](std::string_view b) { return DecodeVersionRecord(b).status(); }},
      {"manifest", EncodeManifest(SampleManifest()),
       [](std::string_view b) { return DecodeManifest(b).status(); }},
  };
}

TEST(RecordsTest, EveryFlippedByteIsCorruption) {
  for (const Encoded& e : AllEncodings()) {
    for (size_t pos = 0; pos < e.bytes.size(); ++pos) {
      for (unsigned char mask : {0x01, 0x80, 0xff}) {
        std::string damaged = e.bytes;
        damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
        EXPECT_CODE(e.decode(damaged), kCorruption) << e.name << " byte " << pos;
      }
    }
  }
}

TEST(RecordsTest, EveryTruncationIsCorruption) {
  for (const Encoded& e : AllEncodings()) {
    for (size_t len = 0; len < e.bytes.size(); ++len) {
      EXPECT_CODE(e.decode(std::string_view(e.bytes).substr(0, len)), kCorruption)
          << e.name << " truncated to " << len;
    }
    EXPECT_CODE(e.decode(e.bytes + "x"), kCorruption) << e.name << " with a trailing byte";
  }
}

// Re-seals damaged bodies with a valid envelope checksum, so the flatbuffers Verifier and the
// payload checksum are what must catch the damage (or decode a still-valid buffer) — never a crash.
std::string Reseal(std::string body) {
  uint32_t masked = MaskCrc(Crc32c(body));
  for (int i = 0; i < 4; ++i) body.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return body;
}

TEST(RecordsTest, ResealedDamageNeverCrashes) {
  std::mt19937 rng(1234);
  for (const Encoded& e : AllEncodings()) {
    std::string body = e.bytes.substr(0, e.bytes.size() - 4);
    for (int round = 0; round < 3000; ++round) {
      std::string damaged = body;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
      Status s = e.decode(Reseal(damaged));
      EXPECT_TRUE(s.ok() || s.code() == StatusCode::kCorruption) << e.name << ": " << s;
    }
  }
}

TEST(RecordsTest, ResealedPayloadDamageFailsPayloadChecksum) {
  ProfileRecord in = SampleProfile();
  std::string bytes = EncodeProfileRecord(in);
  std::string body = bytes.substr(0, bytes.size() - 4);
  size_t at = body.find("coins=100");
  ASSERT_NE(at, std::string::npos);
  body[at] = 'C';
  auto out = DecodeProfileRecord(Reseal(body));
  ASSERT_CODE(out, kCorruption);
  EXPECT_NE(out.status().message().find("payload checksum"), std::string::npos) << out.status();
}

TEST(RecordsTest, WrongRecordTypeIsCorruption) {
  std::string meta = EncodeProfileMeta(SampleMeta());
  ASSERT_CODE(DecodeProfileRecord(meta), kCorruption);
  ASSERT_CODE(DecodeVersionRecord(meta), kCorruption);
  ASSERT_CODE(DecodeManifest(meta), kCorruption);
  ASSERT_CODE(DecodeProfileMeta(EncodeManifest(SampleManifest())), kCorruption);
}

TEST(RecordsTest, RandomGarbageIsCorruption) {
  std::mt19937 rng(99);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(rng() % 200, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    EXPECT_CODE(DecodeProfileRecord(garbage), kCorruption);
    EXPECT_CODE(DecodeProfileMeta(garbage), kCorruption);
    EXPECT_CODE(DecodeVersionRecord(garbage), kCorruption);
    EXPECT_CODE(DecodeManifest(garbage), kCorruption);
  }
}

TEST(RecordsTest, Crc32cMatchesKnownVector) {
  // RFC 3720 (iSCSI) test vector: 32 bytes of zeros.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(UnmaskCrc(MaskCrc(0x12345678u)), 0x12345678u);
  // The table-driven fallback gives the same vectors.
  EXPECT_EQ(SoftwareCrc32cForTesting(0, std::string(32, '\0').data(), 32), 0x8a9136aau);
  EXPECT_EQ(SoftwareCrc32cForTesting(0, "123456789", 9), 0xe3069283u);
}

// Crc32c uses the CPU's instruction where there is one: it must agree with the tables for every
// length, alignment and split (a stored checksum written by one must verify with the other).
TEST(RecordsTest, Crc32cAgreesWithTheTableDrivenVersionAtEveryLengthAndOffset) {
  std::mt19937 rng(17);
  std::string bytes(4096 + 16, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 1000, 4096}) {
      const char* p = bytes.data() + offset;
      const uint32_t expected = SoftwareCrc32cForTesting(0, p, n);
      EXPECT_EQ(Crc32cExtend(0, p, n), expected) << "offset " << offset << " length " << n;
      const size_t split = n / 3;
      EXPECT_EQ(Crc32cExtend(Crc32cExtend(0, p, split), p + split, n - split), expected)
          << "offset " << offset << " length " << n << " split at " << split;
    }
  }
}

}  // namespace
}  // namespace holdfast::internal
