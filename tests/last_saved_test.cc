// What a live session remembers of its last save. It keeps no second copy of the payload: a
// count of edits, a digest, and the stored version stand for it. These tests pin down that the
// shortcut is exact — an edit whose bytes collide with the digest is still saved, an edit that
// restores the saved bytes stores nothing, unsaved changes are reported exactly — and that
// LastSavedData answers while the session lives, after it ended, and after the engine closed.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

#include "crc32c.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using LastSaved = SessionTest;

// `bytes` with its last 4 bytes rewritten so that its CRC-32C equals `crc`. A CRC is affine
// over GF(2) for a fixed length: crc(x ^ p) = crc(x) ^ crc(p) ^ crc(zeros), so the patch p (in
// the last 4 bytes) solves a 32x32 linear system, done here by Gaussian elimination.
std::string WithCrc(std::string bytes, uint32_t crc) {
  const size_t n = bytes.size();
  const std::string zeros(n, '\0');
  const uint32_t zero_crc = internal::Crc32c(zeros);
  // Row i: the CRC change made by flipping bit i of the last 4 bytes, and that bit (as a mask).
  std::array<std::pair<uint32_t, uint32_t>, 32> rows;
  for (int bit = 0; bit < 32; ++bit) {
    std::string unit = zeros;
    unit[n - 4 + bit / 8] = static_cast<char>(1u << (bit % 8));
    rows[bit] = {internal::Crc32c(unit) ^ zero_crc, 1u << bit};
  }
  // Reduce to one row per CRC bit, then combine the rows that make the wanted change.
  for (int col = 0; col < 32; ++col) {
    int pivot = col;
    while (pivot < 32 && !(rows[pivot].first >> col & 1)) ++pivot;
    if (pivot == 32) ADD_FAILURE() << "the CRC patch is singular";
    if (pivot == 32) return bytes;
    std::swap(rows[col], rows[pivot]);
    for (int r = 0; r < 32; ++r) {
      if (r != col && (rows[r].first >> col & 1)) {
        rows[r].first ^= rows[col].first;
        rows[r].second ^= rows[col].second;
      }
    }
  }
  const uint32_t wanted = crc ^ internal::Crc32c(bytes);
  uint32_t patch = 0;
  for (int col = 0; col < 32; ++col) {
    if (wanted >> col & 1) patch ^= rows[col].second;
  }
  for (int byte = 0; byte < 4; ++byte) {
    bytes[n - 4 + byte] = static_cast<char>(bytes[n - 4 + byte] ^ (patch >> (8 * byte)));
  }
  return bytes;
}

TEST_F(LastSaved, AnEditWhoseBytesShareTheSavedDigestIsStillSaved) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("alice");
  ASSERT_OK(profile);
  const std::string saved = "gold=100;gems=....";
  ASSERT_OK(profile->Edit([&](std::string& d) { d = saved; }));
  ASSERT_OK(profile->Save());
  const uint64_t version = profile->Info().version;
  // Same size, same CRC-32C, different bytes: the digest alone would call it unchanged.
  const std::string collides = WithCrc("gold=999;gems=....", internal::Crc32c(saved));
  ASSERT_EQ(collides.size(), saved.size());
  ASSERT_EQ(internal::Crc32c(collides), internal::Crc32c(saved));
  ASSERT_NE(collides, saved);

  ASSERT_OK(profile->Edit([&](std::string& d) { d = collides; }));
  const uint64_t skipped = engine_->Stats().saves_skipped;
  ASSERT_OK(profile->Save());
  EXPECT_EQ(engine_->Stats().saves_skipped, skipped);
  EXPECT_EQ(profile->Info().version, version + 1);
  EXPECT_EQ(StoredPayload("Players", "alice"), collides);
  EXPECT_EQ(profile->LastSavedData(), collides);
}

TEST_F(LastSaved, AnEditThatRestoresTheSavedBytesStoresNothing) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("alice");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=5"; }));
  ASSERT_OK(profile->Save());
  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=6"; }));
  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=5"; }));
  const auto before = RawRecords("Players", "alice");
  const uint64_t version = profile->Info().version;
  const uint64_t skipped = engine_->Stats().saves_skipped;
  ASSERT_OK(profile->Save());
  EXPECT_EQ(engine_->Stats().saves_skipped, skipped + 1);
  EXPECT_EQ(profile->Info().version, version);
  EXPECT_EQ(RawRecords("Players", "alice"), before);
  EXPECT_EQ(profile->LastSavedData(), "gold=5");
}

TEST_F(LastSaved, LastSavedDataAnswersInsideEditAndRead) {
  auto players = OpenPlayers();
  auto profile = players.StartSession("alice");
  ASSERT_OK(profile);
  ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=5"; }));
  ASSERT_OK(profile->Save());
  // Unedited since the save: outside Edit this needs no storage; inside, the data lock is held.
  std::string inside_read = profile->Read([&](const std::string&) {
    return profile->LastSavedData();
  });
  EXPECT_EQ(inside_read, "gold=5");
  std::string inside_edit;
  ASSERT_OK(profile->Edit([&](std::string& d) {
    d = "gold=6";
    inside_edit = profile->LastSavedData();
  }));
  EXPECT_EQ(inside_edit, "gold=5");
  EXPECT_EQ(profile->LastSavedData(), "gold=5");
  EXPECT_EQ(profile->Data(), "gold=6");
}

TEST_F(LastSaved, LastSavedDataAnswersAfterTheSessionEndedAndAfterTheEngineClosed) {
  auto players = OpenPlayers();
  // Ended by EndSession.
  auto ended = players.StartSession("alice");
  ASSERT_OK(ended);
  ASSERT_OK(ended->Edit([](std::string& d) { d = "a1"; }));
  ASSERT_OK(ended->EndSession());
  // Stolen with an unsaved edit; its thief then saves over it.
  auto stolen = players.StartSession("bob");
  ASSERT_OK(stolen);
  ASSERT_OK(stolen->Edit([](std::string& d) { d = "b1"; }));
  ASSERT_OK(stolen->Save());
  ASSERT_OK(stolen->Edit([](std::string& d) { d = "b2"; }));
  SessionOptions steal;
  steal.steal = true;
  auto thief = players.StartSession("bob", steal);
  ASSERT_OK(thief);
  EXPECT_FALSE(stolen->IsActive());
  ASSERT_OK(thief->Edit([](std::string& d) { d = "b3"; }));
  ASSERT_OK(thief->Save());
  // Live, with an unsaved edit.
  auto live = players.StartSession("carol");
  ASSERT_OK(live);
  ASSERT_OK(live->Edit([](std::string& d) { d = "c1"; }));
  ASSERT_OK(live->Save());
  ASSERT_OK(live->Edit([](std::string& d) { d = "c2"; }));

  EXPECT_EQ(ended->LastSavedData(), "a1");
  EXPECT_EQ(stolen->LastSavedData(), "b1");
  EXPECT_EQ(stolen->Data(), "b2");
  EXPECT_EQ(thief->LastSavedData(), "b3");
  EXPECT_EQ(live->LastSavedData(), "c1");

  ASSERT_OK(engine_->Close());
  EXPECT_EQ(ended->LastSavedData(), "a1");
  EXPECT_EQ(stolen->LastSavedData(), "b1");
  EXPECT_EQ(thief->LastSavedData(), "b3");
  EXPECT_EQ(live->LastSavedData(), "c2");  // Close's final save stored it
}

TEST_F(LastSaved, ARemovalReportsUnsavedChangesExactly) {
  auto players = OpenPlayers();
  std::optional<SessionEnd> reverted_end, changed_end;
  auto reverted = players.StartSession("alice");
  ASSERT_OK(reverted);
  reverted->OnSessionEnd([&](const SessionEnd& end) { reverted_end = end; });
  ASSERT_OK(reverted->Edit([](std::string& d) { d = "gold=5"; }));
  ASSERT_OK(reverted->Save());
  ASSERT_OK(reverted->Edit([](std::string& d) { d = "gold=6"; }));
  ASSERT_OK(reverted->Edit([](std::string& d) { d = "gold=5"; }));  // back to what is stored
  auto changed = players.StartSession("bob");
  ASSERT_OK(changed);
  changed->OnSessionEnd([&](const SessionEnd& end) { changed_end = end; });
  ASSERT_OK(changed->Edit([](std::string& d) { d = "gold=7"; }));

  ASSERT_OK(players.Remove("alice"));
  ASSERT_OK(players.Remove("bob"));
  ASSERT_TRUE(reverted_end.has_value());
  EXPECT_EQ(reverted_end->reason, EndReason::kRemoved);
  EXPECT_FALSE(reverted_end->unsaved_changes);
  ASSERT_TRUE(changed_end.has_value());
  EXPECT_EQ(changed_end->reason, EndReason::kRemoved);
  EXPECT_TRUE(changed_end->unsaved_changes);
  EXPECT_EQ(StoredPayload("Players", "alice"), std::nullopt);
  // The removed sessions still say what they had stored.
  EXPECT_EQ(reverted->LastSavedData(), "gold=5");
  EXPECT_EQ(changed->LastSavedData(), "new-player");
}

}  // namespace
}  // namespace holdfast::test
