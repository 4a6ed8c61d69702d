// Regression tests for what the fuzz targets (fuzz/) found, named after the bug. Each reproducer
// is also in the target's corpus as fuzz/corpus/<target>/regress-*, so the replay tests run it.
#include <gtest/gtest.h>

#include <string>

#include "holdfast/render.h"
#include "records.h"
#include "render_fuzz_schema.h"
#include "test_util.h"

namespace holdfast::internal {
namespace {

// fuzz/corpus/profile_meta/regress-empty-vector-alignment: DecodeProfileMeta refused, as
// "misaligned field", a record that EncodeProfileMeta had just written. Flatbuffers 2.0.8's
// builder aligns a vector's elements only when it has some (PreAlign skips a zero length), so an
// empty `versions` or `user_ids` vector may start 4 bytes off an 8-byte boundary; the decoder
// demanded 8. A profile whose meta took such a layout (here: an empty version index and a
// metadata entry with an empty value) would fail every later start with Corruption.
TEST(FuzzRegression, EmptyVectorsAreNeverMisaligned) {
  ProfileMeta m;
  m.epoch = 1;
  m.load_count = 1;
  m.lock = SessionLock{1, 1, 1, 5, 5, "o"};
  m.metadata = {{"k", ""}};
  auto decoded = DecodeProfileMeta(EncodeProfileMeta(m));
  ASSERT_OK(decoded);
  EXPECT_TRUE(decoded->versions.empty());
  EXPECT_EQ(decoded->metadata, m.metadata);
}

// Every layout the encoder produces decodes: owner lengths shift everything after them, and each
// vector is tried empty and not.
TEST(FuzzRegression, EveryEncodedMetaLayoutDecodes) {
  for (size_t owner = 0; owner < 24; ++owner) {
    for (int user_ids = 0; user_ids < 3; ++user_ids) {
      for (int versions = 0; versions < 2; ++versions) {
        for (int value = -1; value < 5; ++value) {
          ProfileMeta m;
          m.lock = SessionLock{1, 1, 1, 5, 5, std::string(owner, 'o')};
          for (int i = 0; i < user_ids; ++i) m.user_ids.push_back(i);
          if (versions) m.versions.push_back(VersionIndexEntry{1, 5, 0});
          if (value >= 0) m.metadata["k"] = std::string(static_cast<size_t>(value), 'v');
          auto decoded = DecodeProfileMeta(EncodeProfileMeta(m));
          ASSERT_OK(decoded) << "owner " << owner << ", user ids " << user_ids << ", versions "
                             << versions << ", metadata value " << value;
          EXPECT_EQ(decoded->user_ids, m.user_ids);
          EXPECT_EQ(decoded->versions, m.versions);
          EXPECT_EQ(decoded->metadata, m.metadata);
        }
      }
    }
  }
}

// fuzz/corpus/schema_render/regress-union-read-before-verify: rendering this damaged payload
// crashed (SEGV) inside flatbuffers::Verify, flatbuffers 2.0.8's reflection verifier, which read
// the `companion` union's type byte and value offset — from a vtable slot pointing past the
// buffer — before checking them. Payloads are now verified by Holdfast's own schema-driven
// verifier (engine/src/flatbuffer_payload.cc), which checks every byte before reading it.
TEST(FuzzRegression, AUnionIsCheckedBeforeItsTypeAndValueAreRead) {
  const std::string payload(
      "\x24\x00\x00\x00\x46\x55\x5a\x5a\x00\x00\x1a\x00\x0c\x00\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x07\x00\x08\x46\x1a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\xfe\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x07\x00\x08\x00\x1a\x00\x00\x00\x00\x00\x00\x02\x0c\x00"
      "\x00\x00\x08\x00\x18\x00\x00\x00\x06\x00\x08\x00\x00\x00\x02\x0c"
      "\x00\x00\x00\x08\x00\x18\x00\x00\x00\x06\x00\x08\x00\x00\x00\x00"
      "\x00\x03\x00",
      115);
  auto rendered = RenderJson(fuzz::kRenderFuzzCodec, fuzz::RenderFuzzBinarySchema(), payload);
  EXPECT_CODE(rendered, kCorruption);
}

}  // namespace
}  // namespace holdfast::internal
