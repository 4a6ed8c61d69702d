// PgRecords: the records of a Holdfast database on PostgreSQL, read straight from its tables
// (holdfast_<family>: k bytea primary key, v bytea) over libpq, without the engine: the crash
// test's checker reads them after each kill (record_reader.h). Unlike RawDatabase it reads a live
// database that other engines keep writing, so every read runs in one REPEATABLE READ, READ ONLY
// transaction opened by Open: all of them see one snapshot, and a check that sums over several
// profiles (the vault's items) sees every Engine::Trade whole or not at all.
#ifndef HOLDFAST_TESTS_CRASH_PG_RECORDS_H_
#define HOLDFAST_TESTS_CRASH_PG_RECORDS_H_

#include <memory>
#include <string>

#include "record_reader.h"

typedef struct pg_conn PGconn;

namespace holdfast::test {

class PgRecords final : public RecordReader {
 public:
  // Connects to `conninfo` and opens the snapshot. NotFound when the database has no Holdfast
  // tables yet (no engine ever finished its first open); IOError when it cannot be reached.
  static Result<std::unique_ptr<PgRecords>> Open(const std::string& conninfo);
  ~PgRecords() override;

  Status VerifyChecksums() override { return Status::Ok(); }
  Result<std::optional<internal::ProfileMeta>> Meta(std::string_view store,
                                                    std::string_view key) override;
  Result<std::optional<internal::ProfileRecord>> Data(std::string_view store,
                                                      std::string_view key) override;
  Result<std::optional<internal::VersionRecord>> Version(std::string_view store,
                                                         std::string_view key,
                                                         uint64_t version) override;
  Result<internal::Manifest> Manifest() override;
  Result<std::vector<internal::MessageRecord>> Messages(std::string_view store,
                                                        std::string_view key) override;
  Result<std::optional<std::string>> DataBytes(std::string_view store,
                                               std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> Profiles() override;

 private:
  explicit PgRecords(PGconn* conn) : conn_(conn) {}
  // The value of `key` in holdfast_<family> (nullopt when absent).
  Result<std::optional<std::string>> Get(std::string_view family, const std::string& key);
  // Every (k, v) of holdfast_<family> with k >= from, in bytewise order, while k starts with
  // `prefix` (an empty prefix: the whole table).
  Result<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view family,
                                                                const std::string& prefix);

  PGconn* conn_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_CRASH_PG_RECORDS_H_
