#include "raw_database.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>

#include <cstdarg>
#include <set>

#include "key_codec.h"

namespace holdfast::test {
namespace {

Status FromRocks(const rocksdb::Status& s, const std::string& context) {
  if (s.ok()) return Status::Ok();
  std::string m = context + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(m);
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
  return Status::IOError(m);
}

// A read-only check must not leave a LOG file behind in the directory it checks.
class NullLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

template <typename T>
Result<std::optional<T>> Decoded(Status read, const std::string& bytes,
                                 Result<T> (*decode)(std::string_view), const std::string& what) {
  if (read.code() == StatusCode::kNotFound) return std::optional<T>();
  if (!read.ok()) return read;
  auto decoded = decode(bytes);
  if (!decoded.ok()) return decoded.status().WithContext(what);
  return std::optional<T>(std::move(*decoded));
}

}  // namespace

Result<std::unique_ptr<RawDatabase>> RawDatabase::Open(const std::string& path,
                                                       rocksdb::Env* env) {
  return OpenWith(path, env, /*writable=*/false);
}

Result<std::unique_ptr<RawDatabase>> RawDatabase::OpenForWriting(const std::string& path) {
  return OpenWith(path, nullptr, /*writable=*/true);
}

Result<std::unique_ptr<RawDatabase>> RawDatabase::OpenWith(const std::string& path,
                                                           rocksdb::Env* env, bool writable) {
  rocksdb::DBOptions options;
  options.create_if_missing = false;
  options.paranoid_checks = true;
  options.track_and_verify_wals_in_manifest = false;  // as the engine (TOOLCHAIN.md)
  options.info_log = std::make_shared<NullLogger>();
  // Open the table files on this thread: RocksDB's default (16) starts 15 threads per column
  // family at every open, most of the fault tests' time under AddressSanitizer.
  options.max_file_opening_threads = 1;
  if (env) options.env = env;
  std::vector<std::string> names;
  if (Status s = FromRocks(rocksdb::DB::ListColumnFamilies(options, path, &names),
                           "list column families of '" + path + "'");
      !s.ok()) {
    return s;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status opened =
      writable ? rocksdb::DB::Open(options, path, families, &handles, &db)
               : rocksdb::DB::OpenForReadOnly(options, path, families, &handles, &db);
  if (Status s = FromRocks(opened, "open '" + path + (writable ? "' for writing" : "' read-only"));
      !s.ok()) {
    return s;
  }
  return std::unique_ptr<RawDatabase>(new RawDatabase(db, std::move(handles)));
}

RawDatabase::RawDatabase(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : db_(db), handles_(std::move(handles)) {}

RawDatabase::~RawDatabase() {
  for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
  (void)db_->Close();
}

rocksdb::ColumnFamilyHandle* RawDatabase::Family(std::string_view name) const {
  for (auto* h : handles_) {
    if (h->GetName() == name) return h;
  }
  return nullptr;
}

Status RawDatabase::Get(std::string_view family, const std::string& key, std::string* value) {
  rocksdb::ColumnFamilyHandle* h = Family(family);
  if (h == nullptr) return Status::NotFound("no column family '" + std::string(family) + "'");
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  return FromRocks(db_->Get(read, h, key, value), "get from '" + std::string(family) + "'");
}

Status RawDatabase::VerifyChecksums() {
  return FromRocks(db_->VerifyChecksum(), "RocksDB checksum verification");
}

Result<std::optional<internal::ProfileMeta>> RawDatabase::Meta(std::string_view store,
                                                                std::string_view key) {
  std::string bytes;
  Status s = Get("meta", internal::EncodeProfileKey(store, key), &bytes);
  return Decoded(s, bytes, &internal::DecodeProfileMeta, "meta of '" + std::string(key) + "'");
}

Result<std::optional<internal::ProfileRecord>> RawDatabase::Data(std::string_view store,
                                                                  std::string_view key) {
  std::string bytes;
  Status s = Get("data", internal::EncodeProfileKey(store, key), &bytes);
  return Decoded(s, bytes, &internal::DecodeProfileRecord, "data of '" + std::string(key) + "'");
}

Result<std::optional<std::string>> RawDatabase::DataBytes(std::string_view store,
                                                          std::string_view key) {
  std::string bytes;
  Status s = Get("data", internal::EncodeProfileKey(store, key), &bytes);
  if (s.code() == StatusCode::kNotFound) return std::optional<std::string>();
  if (!s.ok()) return s;
  return std::optional<std::string>(std::move(bytes));
}

Status RawDatabase::PutDataBytes(std::string_view store, std::string_view key,
                                 const std::string& bytes) {
  rocksdb::ColumnFamilyHandle* h = Family("data");
  if (h == nullptr) return Status::NotFound("no column family 'data'");
  rocksdb::WriteOptions write;
  write.sync = true;
  return FromRocks(db_->Put(write, h, internal::EncodeProfileKey(store, key), bytes),
                   "put into 'data'");
}

Result<std::optional<internal::VersionRecord>> RawDatabase::Version(std::string_view store,
                                                                     std::string_view key,
                                                                     uint64_t version) {
  std::string bytes;
  Status s = Get("versions", internal::EncodeVersionKey(store, key, version), &bytes);
  return Decoded(s, bytes, &internal::DecodeVersionRecord,
                 "version " + std::to_string(version) + " of '" + std::string(key) + "'");
}

Result<std::vector<internal::MessageRecord>> RawDatabase::Messages(std::string_view store,
                                                                   std::string_view key) {
  std::vector<internal::MessageRecord> out;
  rocksdb::ColumnFamilyHandle* h = Family("messages");
  if (h == nullptr) return out;
  const std::string prefix = internal::EncodeProfileKey(store, key);
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, h));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto message = internal::DecodeMessageRecord(it->value().ToStringView());
    if (!message.ok()) {
      return message.status().WithContext("a message of '" + std::string(key) + "'");
    }
    out.push_back(std::move(*message));
  }
  if (Status s = FromRocks(it->status(), "scan of 'messages'"); !s.ok()) return s;
  return out;
}

Result<internal::Manifest> RawDatabase::Manifest() {
  std::string bytes;
  if (Status s = Get("default", std::string(internal::kManifestKey), &bytes); !s.ok()) return s;
  return internal::DecodeManifest(bytes);
}

Result<std::vector<std::pair<std::string, std::string>>> RawDatabase::Profiles() {
  std::set<std::pair<std::string, std::string>> found;
  for (std::string_view family : {"meta", "data"}) {
    rocksdb::ColumnFamilyHandle* h = Family(family);
    if (h == nullptr) continue;
    rocksdb::ReadOptions read;
    read.verify_checksums = true;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read, h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto decoded = internal::DecodeKey(it->key().ToStringView(), /*with_number=*/false);
      if (!decoded.ok()) return decoded.status().WithContext("a key in '" + std::string(family) + "'");
      found.emplace(decoded->store, decoded->key);
    }
    if (Status s = FromRocks(it->status(), "scan of '" + std::string(family) + "'"); !s.ok()) {
      return s;
    }
  }
  return std::vector<std::pair<std::string, std::string>>(found.begin(), found.end());
}

}  // namespace holdfast::test
