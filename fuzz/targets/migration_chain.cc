// Fuzz target: store schema migrations (holdfast/migration.h) across servers that know different
// numbers of steps — a rolling deploy going forwards and backwards — with rollbacks and refusing
// steps, on an in-memory engine.
//
// Step i (1-based) appends i to the document's "applied" list. The input chooses, for each
// reopen, how many steps the server knows and which of them refuse. Rules checked after every
// operation:
//  - a start that succeeds holds, and has stored before returning, exactly the steps 1..k of a
//    server that knows k: each step once, in order, and the stored schema version is k;
//  - a start on data of a newer schema version than the server knows, or whose missing steps
//    include a refusing one, fails with InvalidArgument and changes nothing (same newest
//    version, no lock left);
//  - Get shows the data migrated to the server's steps and the stored schema version unchanged;
//  - a rollback restores the version's schema version as it was.
// fuzz-flags: -max_len=256
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "holdfast/holdfast.h"
#include "holdfast/json_codec.h"

namespace holdfast::fuzz {
namespace {

using nlohmann::json;

constexpr uint32_t kMaxSteps = 6;
constexpr int kKeys = 3;

json Applied(uint32_t k) {
  json list = json::array();
  for (uint32_t i = 1; i <= k; ++i) list.push_back(i);
  return list;
}

class Chain {
 public:
  explicit Chain(FuzzInput& in) : in_(in) {}

  void Run() {
    Reopen();
    for (int op = 0; op < 48 && !in_.empty(); ++op) {
      const uint8_t what = in_.Byte() % 5;
      const std::string key = "k" + std::to_string(in_.Byte() % kKeys);
      switch (what) {
        case 0:
          Reopen();
          break;
        case 1:
        case 2:
          Start(key);
          break;
        case 3:
          Get(key);
          break;
        case 4:
          Rollback(key);
          break;
      }
    }
    if (engine_) FUZZ_CHECK((engine_->Close()).ok());
  }

 private:
  void Reopen() {
    if (engine_) FUZZ_CHECK(engine_->Close().ok());
    store_.reset();
    engine_.reset();
    known_ = in_.Byte() % (kMaxSteps + 1);
    refusing_ = in_.Byte();
    EngineOptions options;
    options.memory_volume = volume_;
    options.conflict_buckets = 64;
    options.worker_threads = 1;
    auto engine = Engine::Open("/chain", options);
    FUZZ_CHECK(engine.ok(), engine.status().ToString());
    engine_ = std::move(*engine);
    StoreOptions<json> store;
    store.autosave = false;
    store.template_value = json{{"applied", Applied(known_)}};
    for (uint32_t i = 1; i <= known_; ++i) {
      const bool refuses = (refusing_ >> (i - 1)) & 1;
      store.migrations.push_back({"step-" + std::to_string(i), [i, refuses](json& d) {
                                    if (refuses) return Status::InvalidArgument("refused");
                                    d["applied"].push_back(i);
                                    return Status::Ok();
                                  }});
    }
    auto opened = engine_->OpenStore<JsonCodec>("Chain", store);
    FUZZ_CHECK(opened.ok(), opened.status().ToString());
    store_.emplace(std::move(*opened));
  }

  // Whether a step in (from, known_] refuses.
  bool RefusesFrom(uint32_t from) const {
    for (uint32_t i = from + 1; i <= known_; ++i) {
      if ((refusing_ >> (i - 1)) & 1) return true;
    }
    return false;
  }

  void Start(const std::string& key) {
    auto versions_before = store_->Versions(key);
    const bool exists = versions_before.ok();
    const uint32_t stored = exists ? StoredSchema(key) : known_;
    auto p = store_->StartSession(key);
    if (exists && (stored > known_ || RefusesFrom(stored))) {
      FUZZ_CHECK_CODE(p, kInvalidArgument, "stored " << stored << ", server knows " << known_);
      auto versions_after = store_->Versions(key);
      FUZZ_CHECK(versions_after.ok() && versions_after->front().version ==
                                            versions_before->front().version,
                 "a refused start wrote a version");
      auto view = RawView(key);
      FUZZ_CHECK(view.ok() && !view->locked, "a refused start left a lock");
      return;
    }
    FUZZ_CHECK(p.ok(), p.status().ToString() << " (stored " << stored << ", knows " << known_
                                             << ")");
    FUZZ_CHECK(p->Data()["applied"] == Applied(known_),
               "holds " << p->Data().dump() << " with " << known_ << " steps");
    FUZZ_CHECK(StoredSchema(key) == known_, "stored schema " << StoredSchema(key));
    FUZZ_CHECK(p->Edit([](json& d) { d["edits"] = d.value("edits", 0) + 1; }).ok());
    FUZZ_CHECK(p->EndSession().ok());
  }

  void Get(const std::string& key) {
    auto view = store_->Get(key);
    if (view.status().code() == StatusCode::kNotFound) return;
    const uint32_t stored = StoredSchema(key);
    if (stored > known_ || RefusesFrom(stored)) {
      FUZZ_CHECK_CODE(view, kInvalidArgument, "stored " << stored << ", knows " << known_);
      return;
    }
    FUZZ_CHECK(view.ok(), view.status().ToString());
    FUZZ_CHECK(view->data["applied"] == Applied(known_), "Get shows " << view->data.dump());
    FUZZ_CHECK(view->version.schema_version == stored, "Get changed the stored version");
  }

  void Rollback(const std::string& key) {
    auto versions = store_->Versions(key);
    if (!versions.ok() || versions->empty()) return;
    const VersionInfo& target = (*versions)[in_.Byte() % versions->size()];
    auto rolled = store_->Rollback(key, target.version);
    if (!rolled.ok()) {
      // The store's check refuses a version it cannot migrate (newer, or a refusing step).
      FUZZ_CHECK_CODE(rolled, kInvalidArgument, "rollback to " << target.version);
      return;
    }
    FUZZ_CHECK(StoredSchema(key) == target.schema_version, "the rollback changed the schema");
  }

  Result<RawProfileView> RawView(const std::string& key) {
    RawStore raw = store_->raw();
    return raw.Get(key);
  }

  uint32_t StoredSchema(const std::string& key) {
    auto raw = RawView(key);
    FUZZ_CHECK(raw.ok(), raw.status().ToString());
    return raw->version.schema_version;
  }

  FuzzInput& in_;
  std::shared_ptr<MemoryVolume> volume_ = MemoryVolume::Create();
  std::unique_ptr<Engine> engine_;
  std::optional<Store<JsonCodec>> store_;
  uint32_t known_ = 0;
  uint8_t refusing_ = 0;
};

}  // namespace
}  // namespace holdfast::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  holdfast::fuzz::FuzzInput in(data, size);
  holdfast::fuzz::Chain(in).Run();
  return 0;
}
