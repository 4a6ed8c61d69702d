// Fuzz target: the key encoding (docs/format.md, "Keys"; engine/src/key_codec.h).
//
// The same input is read two ways:
//  1. As a key read from disk: DecodeKey, with and without the u64 suffix, returns a valid
//     (store, key[, number]) or Corruption — and a key that decodes re-encodes to exactly the
//     input bytes (the encoding is canonical, so no two byte strings mean the same key).
//  2. As two (store, key, number) tuples: every encoder's output decodes back to its tuple,
//     profile keys prefix exactly their own version keys, and byte order of the encodings is
//     the documented order (store length, store, key length, key, number).
// fuzz-flags: -max_len=1024
#include "key_codec.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "fuzz_util.h"
#include "holdfast/limits.h"

namespace holdfast::fuzz {
namespace {

using internal::DecodeKey;

struct Tuple {
  std::string store;
  std::string key;
  uint64_t number = 0;
};

void CheckDecodedFromDisk(std::string_view bytes) {
  auto plain = DecodeKey(bytes, /*with_number=*/false);
  auto numbered = DecodeKey(bytes, /*with_number=*/true);
  FUZZ_CHECK(!(plain.ok() && numbered.ok()), "one length cannot fit both layouts");
  if (plain.ok()) {
    FUZZ_CHECK(ValidateStoreName(plain->store).ok() && ValidateProfileKey(plain->key).ok());
    FUZZ_CHECK(!plain->number.has_value());
    FUZZ_CHECK(internal::EncodeProfileKey(plain->store, plain->key) == bytes,
               "not canonical: " << Printable(bytes));
  } else {
    FUZZ_CHECK_CODE(plain, kCorruption, "for " << Printable(bytes));
  }
  if (numbered.ok()) {
    FUZZ_CHECK(ValidateStoreName(numbered->store).ok() && ValidateProfileKey(numbered->key).ok());
    FUZZ_CHECK(numbered->number.has_value());
    FUZZ_CHECK(
        internal::EncodeVersionKey(numbered->store, numbered->key, *numbered->number) == bytes,
        "not canonical: " << Printable(bytes));
  } else {
    FUZZ_CHECK_CODE(numbered, kCorruption, "for " << Printable(bytes));
  }
}

Tuple ReadTuple(FuzzInput& in) {
  static constexpr std::string_view kStoreBytes =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
  Tuple t;
  size_t store_len = 1 + in.Byte() % kMaxStoreNameBytes;
  for (size_t i = 0; i < store_len; ++i) t.store.push_back(kStoreBytes[in.Byte() % 65]);
  size_t key_len = 1 + in.U16() % kMaxProfileKeyBytes;
  t.key = in.Bytes(key_len);
  t.key.resize(key_len, '\0');  // pad when the input ran out
  t.number = in.U64();
  return t;
}

void CheckRoundTrip(const Tuple& t) {
  const std::string profile = internal::EncodeProfileKey(t.store, t.key);
  const std::string version = internal::EncodeVersionKey(t.store, t.key, t.number);
  const std::string message = internal::EncodeMessageKey(t.store, t.key, t.number);
  auto p = DecodeKey(profile, false);
  FUZZ_CHECK(p.ok() && p->store == t.store && p->key == t.key && !p->number,
             p.status().ToString() << " for " << Printable(profile));
  for (const std::string& numbered : {version, message}) {
    auto v = DecodeKey(numbered, true);
    FUZZ_CHECK(v.ok() && v->store == t.store && v->key == t.key && v->number == t.number,
               v.status().ToString() << " for " << Printable(numbered));
  }
  const std::string prefix = internal::EncodeStorePrefix(t.store);
  FUZZ_CHECK(profile.compare(0, prefix.size(), prefix) == 0);
  FUZZ_CHECK(version.compare(0, profile.size(), profile) == 0 &&
             version.size() == profile.size() + 8);
}

int Sign(int v) { return (v > 0) - (v < 0); }

void CheckOrder(const Tuple& a, const Tuple& b) {
  auto rank = [](const Tuple& t) {
    return std::make_tuple(t.store.size(), std::string_view(t.store), t.key.size(),
                           std::string_view(t.key), t.number);
  };
  const int documented = rank(a) < rank(b) ? -1 : (rank(b) < rank(a) ? 1 : 0);
  const std::string va = internal::EncodeVersionKey(a.store, a.key, a.number);
  const std::string vb = internal::EncodeVersionKey(b.store, b.key, b.number);
  FUZZ_CHECK(Sign(va.compare(vb)) == documented, "byte order differs from the documented order: "
                                                     << Printable(va) << " vs " << Printable(vb));
  // A profile's scan prefix holds its own version keys and no other profile's.
  const std::string pa = internal::EncodeProfileKey(a.store, a.key);
  const bool same_profile = a.store == b.store && a.key == b.key;
  FUZZ_CHECK((vb.compare(0, pa.size(), pa) == 0) == same_profile,
             "prefix scan of " << Printable(pa) << " and " << Printable(vb));
}

}  // namespace
}  // namespace holdfast::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holdfast::fuzz;
  CheckDecodedFromDisk(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzInput in(data, size);
  Tuple a = ReadTuple(in);
  Tuple b = ReadTuple(in);
  CheckRoundTrip(a);
  CheckRoundTrip(b);
  CheckOrder(a, b);
  CheckOrder(b, a);
  return 0;
}
