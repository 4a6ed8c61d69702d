// The key encoding never collides and orders consistently, over random names and keys that
// include embedded NUL bytes, 0xff bytes and prefixes of each other.
#include "key_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <tuple>

#include "holdfast/limits.h"
#include "test_util.h"

namespace holdfast::internal {
namespace {

struct Tuple {
  std::string store;
  std::string key;
  uint64_t number;
};

// The documented order: store by (length, bytes), key by (length, bytes), then the number.
bool DocumentedLess(const Tuple& a, const Tuple& b) {
  auto rank = [](const Tuple& t) {
    return std::make_tuple(t.store.size(), t.store, t.key.size(), t.key, t.number);
  };
  return rank(a) < rank(b);
}

std::string RandomStore(std::mt19937_64& rng) {
  static const std::string kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
  std::string s(1 + rng() % 6, 'a');
  for (char& c : s) c = kAlphabet[rng() % kAlphabet.size()];
  return s;
}

std::string RandomKey(std::mt19937_64& rng) {
  // Tiny alphabet with NUL and 0xff so that prefixes and equal-length collisions are common.
  static const char kBytes[] = {'\0', '\x01', 'a', 'b', '\xff'};
  size_t len = 1 + rng() % 5;
  if (rng() % 50 == 0) len = kMaxProfileKeyBytes;
  std::string s(len, 'a');
  for (char& c : s) c = kBytes[rng() % sizeof(kBytes)];
  return s;
}

std::vector<Tuple> RandomTuples(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tuple> out;
  std::vector<std::string> stores;
  for (int i = 0; i < 8; ++i) stores.push_back(RandomStore(rng));
  stores.push_back("a");
  stores.push_back("aa");
  for (size_t i = 0; i < n; ++i) {
    uint64_t number = rng() % 4 == 0 ? rng() : rng() % 300;
    out.push_back({stores[rng() % stores.size()], RandomKey(rng), number});
  }
  return out;
}

TEST(KeyCodecTest, VersionKeysNeverCollideAndOrderAsDocumented) {
  std::vector<Tuple> tuples = RandomTuples(20000, 7);
  std::set<std::tuple<std::string, std::string, uint64_t>> distinct;
  std::set<std::string> encodings;
  for (const Tuple& t : tuples) {
    distinct.insert({t.store, t.key, t.number});
    encodings.insert(EncodeVersionKey(t.store, t.key, t.number));
  }
  EXPECT_EQ(encodings.size(), distinct.size());

  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const Tuple& a = tuples[rng() % tuples.size()];
    const Tuple& b = tuples[rng() % tuples.size()];
    std::string ea = EncodeVersionKey(a.store, a.key, a.number);
    std::string eb = EncodeVersionKey(b.store, b.key, b.number);
    ASSERT_EQ(DocumentedLess(a, b), ea < eb) << "order differs";
    ASSERT_EQ(DocumentedLess(b, a), eb < ea) << "order differs";
  }
}

TEST(KeyCodecTest, ProfilePrefixSelectsExactlyThatProfilesVersions) {
  std::vector<Tuple> tuples = RandomTuples(5000, 8);
  for (int i = 0; i < 300; ++i) {
    const Tuple& owner = tuples[i];
    std::string prefix = EncodeProfileKey(owner.store, owner.key);
    for (const Tuple& t : tuples) {
      bool same_profile = t.store == owner.store && t.key == owner.key;
      std::string enc = EncodeVersionKey(t.store, t.key, t.number);
      ASSERT_EQ(enc.compare(0, prefix.size(), prefix) == 0, same_profile);
      std::string store_prefix = EncodeStorePrefix(owner.store);
      ASSERT_EQ(enc.compare(0, store_prefix.size(), store_prefix) == 0, t.store == owner.store);
    }
  }
}

TEST(KeyCodecTest, VersionsOfOneProfileSortNumerically) {
  std::vector<uint64_t> numbers = {0, 1, 2, 255, 256, 65535, 65536, 1ull << 32, ~0ull - 1, ~0ull};
  for (size_t i = 1; i < numbers.size(); ++i) {
    EXPECT_LT(EncodeVersionKey("s", std::string("k\0", 2), numbers[i - 1]),
              EncodeVersionKey("s", std::string("k\0", 2), numbers[i]));
  }
}

TEST(KeyCodecTest, DecodeInvertsEncode) {
  for (const Tuple& t : RandomTuples(3000, 9)) {
    auto profile = DecodeKey(EncodeProfileKey(t.store, t.key), /*with_number=*/false);
    ASSERT_OK(profile);
    EXPECT_EQ(profile->store, t.store);
    EXPECT_EQ(profile->key, t.key);
    EXPECT_FALSE(profile->number.has_value());
    auto version = DecodeKey(EncodeVersionKey(t.store, t.key, t.number), /*with_number=*/true);
    ASSERT_OK(version);
    EXPECT_EQ(version->store, t.store);
    EXPECT_EQ(version->key, t.key);
    EXPECT_EQ(version->number, t.number);
  }
}

TEST(KeyCodecTest, MalformedKeysAreCorruption) {
  std::string good = EncodeVersionKey("Players", "player-1", 5);
  EXPECT_CODE(DecodeKey("", false), kCorruption);
  EXPECT_CODE(DecodeKey(good, false), kCorruption);  // number where none belongs
  EXPECT_CODE(DecodeKey(EncodeProfileKey("Players", "p"), true), kCorruption);
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_CODE(DecodeKey(good.substr(0, len), true), kCorruption) << "truncated to " << len;
  }
  EXPECT_CODE(DecodeKey(good + "x", true), kCorruption);
  std::string zero_store = std::string(1, '\0') + std::string("\0\1k", 3);
  EXPECT_CODE(DecodeKey(zero_store, false), kCorruption);
  std::string bad_store = std::string(1, '\1') + "/" + std::string("\0\1k", 3);
  EXPECT_CODE(DecodeKey(bad_store, false), kCorruption);
  std::string long_key = EncodeStorePrefix("s") + "\x01\x01" + std::string(257, 'k');
  EXPECT_CODE(DecodeKey(long_key, false), kCorruption);
}

TEST(KeyCodecTest, RandomBytesNeverCrashDecode) {
  std::mt19937_64 rng(10);
  for (int i = 0; i < 50000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && rng() % 2) bytes[0] = static_cast<char>(1 + rng() % 4);
    auto decoded = DecodeKey(bytes, rng() % 2 == 0);
    if (decoded.ok()) {
      // Anything that decodes must re-encode to exactly the same bytes.
      std::string again = decoded->number
                              ? EncodeVersionKey(decoded->store, decoded->key, *decoded->number)
                              : EncodeProfileKey(decoded->store, decoded->key);
      EXPECT_EQ(again, bytes);
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    }
  }
}

}  // namespace
}  // namespace holdfast::internal
