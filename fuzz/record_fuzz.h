// The body shared by the record targets (one per on-disk root table): feed bytes to the record's
// one decode function and check what the format promises (docs/format.md, "Values"):
//  - any bytes decode to a record or fail with Corruption, never crash or trip a sanitizer;
//  - the decoder does not depend on the alignment of the bytes it is handed;
//  - a decoded record survives encode -> decode unchanged, and encoding is deterministic.
//
// Random mutations almost never keep the envelope checksum right, so each input is also decoded
// "resealed": its last four bytes replaced by the correct masked CRC-32C of the rest. Corpus
// files are whole on-disk values; the fuzzer then explores the flatbuffer behind the checksum.
#ifndef HOLDFAST_FUZZ_RECORD_FUZZ_H_
#define HOLDFAST_FUZZ_RECORD_FUZZ_H_

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "crc32c.h"
#include "fuzz_util.h"
#include "records.h"

namespace holdfast::fuzz {

// Field-by-field equality of the decoded records (records.h declares no operator==). Add a
// record's new fields here; CheckDecode also compares encodings, which cover every field the
// encoder writes, but only a field comparison notices a field the encoder forgets.
inline bool Same(const internal::ProfileRecord& a, const internal::ProfileRecord& b) {
  return std::tie(a.version, a.payload, a.codec, a.updated_unix_ms, a.epoch) ==
         std::tie(b.version, b.payload, b.codec, b.updated_unix_ms, b.epoch);
}

inline bool Same(const std::optional<internal::SessionLock>& a,
                 const std::optional<internal::SessionLock>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return std::tie(a->incarnation, a->session_id, a->epoch, a->acquired_unix_ms, a->renewed_unix_ms,
                  a->owner) == std::tie(b->incarnation, b->session_id, b->epoch,
                                        b->acquired_unix_ms, b->renewed_unix_ms, b->owner);
}

inline bool Same(const std::optional<internal::ReleaseRequest>& a,
                 const std::optional<internal::ReleaseRequest>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return std::tie(a->incarnation, a->session_id, a->requested_unix_ms) ==
         std::tie(b->incarnation, b->session_id, b->requested_unix_ms);
}

inline bool Same(const internal::ProfileMeta& a, const internal::ProfileMeta& b) {
  auto fields = [](const internal::ProfileMeta& m) {
    return std::tie(m.epoch, m.load_count, m.first_session_unix_ms, m.created_unix_ms,
                    m.updated_unix_ms, m.user_ids, m.metadata, m.last_version, m.next_message_seq,
                    m.acked_message_seq, m.versions);
  };
  return Same(a.lock, b.lock) && Same(a.release_request, b.release_request) &&
         fields(a) == fields(b);
}

inline bool Same(const internal::VersionRecord& a, const internal::VersionRecord& b) {
  return std::tie(a.version, a.payload, a.codec, a.written_unix_ms, a.reason, a.epoch,
                  a.source_version) == std::tie(b.version, b.payload, b.codec, b.written_unix_ms,
                                                b.reason, b.epoch, b.source_version);
}

inline bool Same(const internal::MessageRecord& a, const internal::MessageRecord& b) {
  return std::tie(a.sequence, a.payload, a.sent_unix_ms) ==
         std::tie(b.sequence, b.payload, b.sent_unix_ms);
}

inline bool Same(const internal::Manifest& a, const internal::Manifest& b) {
  if (a.stores.size() != b.stores.size()) return false;
  for (size_t i = 0; i < a.stores.size(); ++i) {
    const auto& x = a.stores[i];
    const auto& y = b.stores[i];
    if (std::tie(x.name, x.codec, x.schema, x.created_unix_ms) !=
        std::tie(y.name, y.codec, y.schema, y.created_unix_ms)) {
      return false;
    }
  }
  return std::tie(a.format_version, a.created_unix_ms, a.last_incarnation, a.last_writer,
                  a.user_id_index) == std::tie(b.format_version, b.created_unix_ms,
                                               b.last_incarnation, b.last_writer, b.user_id_index);
}

// `value` with its envelope checksum replaced by the right one (docs/format.md, "Values").
inline std::string Reseal(std::string_view value) {
  std::string out(value.substr(0, value.size() - 4));
  uint32_t masked = internal::MaskCrc(internal::Crc32c(out));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return out;
}

template <typename Record>
using DecodeFunction = Result<Record> (*)(std::string_view);
template <typename Record>
using EncodeFunction = std::string (*)(const Record&);

template <typename Record>
void CheckDecode(std::string_view bytes, DecodeFunction<Record> decode,
                 EncodeFunction<Record> encode) {
  // Storage hands out values at any address: decode from an odd one.
  std::string shifted(bytes.size() + 1, '\0');
  if (!bytes.empty()) std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  Result<Record> record = decode(std::string_view(shifted).substr(1));
  if (!record.ok()) {
    FUZZ_CHECK_CODE(record, kCorruption, "for " << Printable(bytes));
    return;
  }
  const std::string encoded = encode(*record);
  Result<Record> again = decode(encoded);
  FUZZ_CHECK(again.ok(), "re-encoded record does not decode: " << again.status().ToString()
                                                               << "; input " << Printable(bytes));
  FUZZ_CHECK(Same(*record, *again),
             "record changed in encode -> decode; input " << Printable(bytes));
  FUZZ_CHECK(encode(*again) == encoded,
             "encoding is not deterministic; input " << Printable(bytes));
}

// The whole target: decode the bytes as they are, and resealed.
template <typename Record>
int FuzzRecord(const uint8_t* data, size_t size, DecodeFunction<Record> decode,
               EncodeFunction<Record> encode) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  CheckDecode(bytes, decode, encode);
  if (size >= 4) {
    std::string resealed = Reseal(bytes);
    if (resealed != bytes) CheckDecode(resealed, decode, encode);
  }
  return 0;
}

}  // namespace holdfast::fuzz

#endif  // HOLDFAST_FUZZ_RECORD_FUZZ_H_
