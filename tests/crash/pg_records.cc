#include "pg_records.h"

#include <libpq-fe.h>

#include <set>

#include "key_codec.h"

namespace holdfast::test {
namespace {

// Owns one PGresult.
struct OwnedResult {
  PGresult* r;
  ~OwnedResult() { PQclear(r); }
};

Status Failed(PGconn* conn, const std::string& what) {
  return Status::IOError(what + ": " + PQerrorMessage(conn));
}

template <typename T>
Result<std::optional<T>> Decoded(Result<std::optional<std::string>> bytes,
                                 Result<T> (*decode)(std::string_view), const std::string& what) {
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return std::optional<T>();
  auto decoded = decode(**bytes);
  if (!decoded.ok()) return decoded.status().WithContext(what);
  return std::optional<T>(std::move(*decoded));
}

}  // namespace

Result<std::unique_ptr<PgRecords>> PgRecords::Open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = Failed(conn, "connecting to the database");
    PQfinish(conn);
    return s;
  }
  std::unique_ptr<PgRecords> records(new PgRecords(conn));
  OwnedResult begin{PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")};
  if (PQresultStatus(begin.r) != PGRES_COMMAND_OK) return Failed(conn, "BEGIN");
  OwnedResult tables{PQexec(conn, "SELECT to_regclass('holdfast_default') IS NOT NULL")};
  if (PQresultStatus(tables.r) != PGRES_TUPLES_OK) return Failed(conn, "looking for the tables");
  if (std::string_view(PQgetvalue(tables.r, 0, 0)) != "t") {
    return Status::NotFound("the database has no Holdfast tables yet");
  }
  return records;
}

PgRecords::~PgRecords() { PQfinish(conn_); }

Result<std::optional<std::string>> PgRecords::Get(std::string_view family,
                                                  const std::string& key) {
  const std::string sql = "SELECT v FROM holdfast_" + std::string(family) + " WHERE k = $1";
  const char* values[] = {key.data()};
  const int lengths[] = {static_cast<int>(key.size())};
  const int formats[] = {1};
  OwnedResult r{PQexecParams(conn_, sql.c_str(), 1, nullptr, values, lengths, formats, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK) {
    return Failed(conn_, "get from holdfast_" + std::string(family));
  }
  if (PQntuples(r.r) == 0) return std::optional<std::string>();
  return std::optional<std::string>(
      std::string(PQgetvalue(r.r, 0, 0), static_cast<size_t>(PQgetlength(r.r, 0, 0))));
}

Result<std::vector<std::pair<std::string, std::string>>> PgRecords::Scan(
    std::string_view family, const std::string& prefix) {
  const std::string sql =
      "SELECT k, v FROM holdfast_" + std::string(family) + " WHERE k >= $1 ORDER BY k";
  const char* values[] = {prefix.data()};
  const int lengths[] = {static_cast<int>(prefix.size())};
  const int formats[] = {1};
  OwnedResult r{PQexecParams(conn_, sql.c_str(), 1, nullptr, values, lengths, formats, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK) {
    return Failed(conn_, "scan of holdfast_" + std::string(family));
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (int i = 0; i < PQntuples(r.r); ++i) {
    std::string k(PQgetvalue(r.r, i, 0), static_cast<size_t>(PQgetlength(r.r, i, 0)));
    if (!std::string_view(k).starts_with(prefix)) break;
    rows.emplace_back(std::move(k), std::string(PQgetvalue(r.r, i, 1),
                                                static_cast<size_t>(PQgetlength(r.r, i, 1))));
  }
  return rows;
}

Result<std::optional<internal::ProfileMeta>> PgRecords::Meta(std::string_view store,
                                                              std::string_view key) {
  return Decoded(Get("meta", internal::EncodeProfileKey(store, key)), &internal::DecodeProfileMeta,
                 "meta of '" + std::string(key) + "'");
}

Result<std::optional<internal::ProfileRecord>> PgRecords::Data(std::string_view store,
                                                                std::string_view key) {
  return Decoded(Get("data", internal::EncodeProfileKey(store, key)),
                 &internal::DecodeProfileRecord, "data of '" + std::string(key) + "'");
}

Result<std::optional<std::string>> PgRecords::DataBytes(std::string_view store,
                                                        std::string_view key) {
  return Get("data", internal::EncodeProfileKey(store, key));
}

Result<std::optional<internal::VersionRecord>> PgRecords::Version(std::string_view store,
                                                                   std::string_view key,
                                                                   uint64_t version) {
  return Decoded(Get("versions", internal::EncodeVersionKey(store, key, version)),
                 &internal::DecodeVersionRecord,
                 "version " + std::to_string(version) + " of '" + std::string(key) + "'");
}

Result<std::vector<internal::MessageRecord>> PgRecords::Messages(std::string_view store,
                                                                 std::string_view key) {
  auto rows = Scan("messages", internal::EncodeProfileKey(store, key));
  if (!rows.ok()) return rows.status();
  std::vector<internal::MessageRecord> out;
  for (const auto& [k, v] : *rows) {
    auto message = internal::DecodeMessageRecord(v);
    if (!message.ok()) {
      return message.status().WithContext("a message of '" + std::string(key) + "'");
    }
    out.push_back(std::move(*message));
  }
  return out;
}

Result<internal::Manifest> PgRecords::Manifest() {
  auto bytes = Get("default", std::string(internal::kManifestKey));
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return Status::NotFound("no manifest record");
  return internal::DecodeManifest(**bytes);
}

Result<std::vector<std::pair<std::string, std::string>>> PgRecords::Profiles() {
  std::set<std::pair<std::string, std::string>> found;
  for (std::string_view family : {"meta", "data"}) {
    auto rows = Scan(family, "");
    if (!rows.ok()) return rows.status();
    for (const auto& [k, v] : *rows) {
      auto decoded = internal::DecodeKey(k, /*with_number=*/false);
      if (!decoded.ok()) {
        return decoded.status().WithContext("a key in holdfast_" + std::string(family));
      }
      found.emplace(decoded->store, decoded->key);
    }
  }
  return std::vector<std::pair<std::string, std::string>>(found.begin(), found.end());
}

}  // namespace holdfast::test
