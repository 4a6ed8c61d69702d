// RecordReader: the records of a Holdfast database exactly as stored, read without the engine,
// for the crash test's checker (checker.h) and mailbox model (mailbox.h). Two implementations:
// RawDatabase (raw_database.h: a closed RocksDB directory, read-only) and PgRecords
// (pg_records.h: the tables of a PostgreSQL database, read in one snapshot while other engines
// may be writing). The checker sees only this interface, so its rules are the same on both
// backends. Not thread-safe; one reader at a time.
#ifndef HOLDFAST_TESTS_CRASH_RECORD_READER_H_
#define HOLDFAST_TESTS_CRASH_RECORD_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holdfast/status.h"
#include "records.h"

namespace holdfast::test {

class RecordReader {
 public:
  virtual ~RecordReader() = default;

  // The storage's own verification of what it holds: RocksDB's block checksums. PostgreSQL has
  // no such check here (page checksums are off in the test cluster): Ok.
  virtual Status VerifyChecksums() = 0;

  // One profile's records as stored: nullopt when absent, Corruption when they fail to decode.
  virtual Result<std::optional<internal::ProfileMeta>> Meta(std::string_view store,
                                                            std::string_view key) = 0;
  virtual Result<std::optional<internal::ProfileRecord>> Data(std::string_view store,
                                                              std::string_view key) = 0;
  virtual Result<std::optional<internal::VersionRecord>> Version(std::string_view store,
                                                                 std::string_view key,
                                                                 uint64_t version) = 0;
  virtual Result<internal::Manifest> Manifest() = 0;
  // The profile's waiting messages in sequence order; Corruption when one fails to decode.
  virtual Result<std::vector<internal::MessageRecord>> Messages(std::string_view store,
                                                                std::string_view key) = 0;
  // A profile's data record as stored, undecoded (nullopt when absent).
  virtual Result<std::optional<std::string>> DataBytes(std::string_view store,
                                                       std::string_view key) = 0;
  // Every (store, key) that has a meta or a data record, in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> Profiles() = 0;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_CRASH_RECORD_READER_H_
