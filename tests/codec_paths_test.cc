// Typed codecs on every path where the engine encodes or decodes profile data (issue 11,
// "Typed codecs"): a decode failure at StartSession under each corruption policy, a template that
// does not decode, Store::Get on bytes that do not decode, a template that cannot be encoded, an
// encode failure at Save, at EndSession, at a handoff and at shutdown, and Profile::Reconcile for
// a codec with and without Codec::Reconcile.
//
// FieldsCodec stores named fields as "name=value" lines and fails on command through markers in
// the data: a field holding kUnencodable cannot be encoded (InvalidArgument), a field holding
// kUndecodable is written but refused on reading as damaged (Corruption, as a flatbuffers verifier
// would), and one holding kWrongSchema is refused on reading with InvalidArgument (intact bytes
// this code does not accept: a disagreement, which the engine never repairs by default).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "internals.h"
#include "session_test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;

// Real time a test waits for an engine thread before it fails.
constexpr auto kDeadline = 10s;

using Fields = std::map<std::string, std::string>;

constexpr std::string_view kUnencodable = "<unencodable>";
constexpr std::string_view kUndecodable = "<undecodable>";
constexpr std::string_view kWrongSchema = "<wrong-schema>";

// Counts FieldsCodec::Encode failures, which may happen on engine workers (handoffs).
class EncodeFailures {
 public:
  static void Record() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  static int Count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  // True once at least `n` failures happened; false after kDeadline.
  [[nodiscard]] static bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return count_ >= n; });
  }

 private:
  static inline std::mutex mu_;
  static inline std::condition_variable cv_;
  static inline int count_ = 0;
};

// Named fields, encoded as sorted "name=value\n" lines.
struct FieldsCodec {
  using Value = Fields;
  static constexpr std::string_view kName = "test-fields";

  static Result<std::string> Encode(const Value& value) {
    std::string out;
    for (const auto& [name, field] : value) {
      if (field == kUnencodable || name.find_first_of("=\n") != std::string::npos ||
          field.find('\n') != std::string::npos) {
        EncodeFailures::Record();
        return Status::InvalidArgument("field '" + name + "' cannot be encoded");
      }
      out += name + "=" + field + "\n";
    }
    return out;
  }

  static Result<Value> Decode(std::string_view bytes) {
    Value value;
    while (!bytes.empty()) {
      const size_t end = bytes.find('\n');
      const size_t eq = bytes.find('=');
      if (end == std::string_view::npos || eq == std::string_view::npos || eq > end) {
        return Status::Corruption("malformed field line");
      }
      const std::string name(bytes.substr(0, eq));
      const std::string field(bytes.substr(eq + 1, end - eq - 1));
      if (field == kUndecodable) {
        return Status::Corruption("field '" + name + "' holds a value this decoder refuses");
      }
      if (field == kWrongSchema) {
        return Status::InvalidArgument("field '" + name + "' does not match the schema");
      }
      value[name] = field;
      bytes.remove_prefix(end + 1);
    }
    return value;
  }
};

// The same encoding, with Reconcile: fields the data lacks are taken from the template.
struct ReconcilingFieldsCodec : FieldsCodec {
  static constexpr std::string_view kName = "test-fields-reconciling";
  static void Reconcile(Value& data, const Value& template_value) {
    for (const auto& [name, field] : template_value) data.try_emplace(name, field);
  }
};

static_assert(ProfileCodec<FieldsCodec>);
static_assert(ProfileCodec<ReconcilingFieldsCodec>);

using Inventory = Store<FieldsCodec>;

class CodecPathsTest : public SessionTest {
 protected:
  // The "Inventory" store on FieldsCodec; template {gold: 0}; auto-saves never due unless the
  // test moves the clock by a day.
  Inventory OpenInventory(std::function<void(StoreOptions<Fields>&)> tweak = nullptr) {
    StoreOptions<Fields> options;
    options.template_value = {{"gold", "0"}};
    options.autosave_period = 24h;
    if (tweak) tweak(options);
    auto store = engine_->OpenStore<FieldsCodec>("Inventory", options);
    EXPECT_OK(store);
    return std::move(*store);
  }

  // Saves {gold: 1} (version 2) and {gold: 2} (version 3), then ends the session with a field
  // holding `poison` (version 4), which the codec encodes but will not decode.
  void WriteHistoryEndingUndecodable(Inventory& store, const std::string& key,
                                     std::string_view poison = kUndecodable) {
    auto p = store.StartSession(key);
    ASSERT_OK(p);
    for (const char* gold : {"1", "2"}) {
      ASSERT_OK(p->Edit([&](Fields& d) { d["gold"] = gold; }));
      ASSERT_OK(p->Save());
    }
    ASSERT_OK(p->Edit([&](Fields& d) { d["note"] = std::string(poison); }));
    ASSERT_OK(p->EndSession());
  }

  std::optional<Fields> StoredFields(const std::string& key) {
    auto payload = StoredPayload("Inventory", key);
    if (!payload) return std::nullopt;
    auto decoded = FieldsCodec::Decode(*payload);
    if (!decoded.ok()) return std::nullopt;
    return *decoded;
  }
};

// --- Decoding at StartSession ---

TEST_F(CodecPathsTest, UndecodablePayloadIsQuarantinedAndTheNewestDecodableVersionRestored) {
  std::vector<CorruptionEvent> events;
  auto inventory = OpenInventory([&](StoreOptions<Fields>& o) {
    o.on_corruption = [&](const CorruptionEvent& e) { events.push_back(e); };
  });
  WriteHistoryEndingUndecodable(inventory, "alice");
  auto p = inventory.StartSession("alice");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), (Fields{{"gold", "2"}}));
  EXPECT_EQ(p->Info().version, 6u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].quarantined_version, 5u);
  EXPECT_EQ(events[0].restored_from, 3u);
  EXPECT_EQ(events[0].restored_as, 6u);
  EXPECT_NE(events[0].reason.find("this decoder refuses"), std::string::npos) << events[0].reason;
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 1u);
  auto versions = inventory.Versions("alice");
  ASSERT_OK(versions);
  ASSERT_GE(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ((*versions)[0].source_version, 3u);
  EXPECT_EQ((*versions)[1].reason, VersionReason::kQuarantine);
  EXPECT_EQ((*versions)[2].reason, VersionReason::kEndSession);
  EXPECT_EQ(StoredFields("alice"), (Fields{{"gold", "2"}}));
  // The refused bytes are kept as evidence, byte for byte.
  EXPECT_EQ(StoredPayload("Inventory", "alice"), "gold=2\n");
  std::string quarantined;
  ASSERT_OK(test::StorageOf(*engine_).Get(internal::Family::kVersions,
                                          internal::EncodeVersionKey("Inventory", "alice", 5),
                                          &quarantined));
  auto record = internal::DecodeVersionRecord(quarantined);
  ASSERT_OK(record);
  EXPECT_EQ(record->payload, "gold=2\nnote=" + std::string(kUndecodable) + "\n");
}

TEST_F(CodecPathsTest, UndecodablePayloadUnderTheFailPolicyRefusesTheStartAndChangesNothing) {
  auto inventory =
      OpenInventory([](StoreOptions<Fields>& o) { o.corruption_policy = CorruptionPolicy::kFail; });
  WriteHistoryEndingUndecodable(inventory, "bob");
  const auto before = RawRecords("Inventory", "bob");
  auto refused = inventory.StartSession("bob");
  EXPECT_CODE(refused, kCorruption);
  EXPECT_NE(refused.status().message().find("this decoder refuses"), std::string::npos)
      << refused.status();
  EXPECT_EQ(RawRecords("Inventory", "bob"), before);
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
}

TEST_F(CodecPathsTest, UndecodablePayloadUnderTheResetPolicyStartsFromTheTemplate) {
  auto inventory = OpenInventory(
      [](StoreOptions<Fields>& o) { o.corruption_policy = CorruptionPolicy::kResetToTemplate; });
  WriteHistoryEndingUndecodable(inventory, "carol");
  auto p = inventory.StartSession("carol");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), (Fields{{"gold", "0"}}));
  auto versions = inventory.Versions("carol");
  ASSERT_OK(versions);
  EXPECT_EQ((*versions)[0].reason, VersionReason::kCorruptionRecovery);
  EXPECT_EQ((*versions)[0].source_version, 0u);  // the template
  EXPECT_EQ((*versions)[1].reason, VersionReason::kQuarantine);
}

// Intact bytes the codec refuses with a status other than Corruption are a disagreement between
// the stored data and the running code: the start fails and nothing is restored, whatever the
// corruption policy (issue 13).
TEST_F(CodecPathsTest, IntactBytesTheCodecRefusesAreADisagreementAndChangeNothing) {
  auto inventory = OpenInventory();  // default policy: restore the newest valid version
  WriteHistoryEndingUndecodable(inventory, "dave", kWrongSchema);
  const auto before = RawRecords("Inventory", "dave");
  auto refused = inventory.StartSession("dave");
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("does not match the schema"), std::string::npos)
      << refused.status();
  EXPECT_EQ(RawRecords("Inventory", "dave"), before);
  EXPECT_EQ(engine_->Stats().disagreements, 1u);
  EXPECT_EQ(engine_->Stats().corruptions_repaired, 0u);
}

TEST_F(CodecPathsTest, TemplateThatDoesNotDecodeFailsTheStartAndLeavesNothing) {
  auto inventory = OpenInventory([](StoreOptions<Fields>& o) {
    o.template_value = {{"gold", "0"}, {"note", std::string(kUndecodable)}};
  });
  auto refused = inventory.StartSession("erin");
  EXPECT_CODE(refused, kCorruption);
  EXPECT_NE(refused.status().message().find("codec 'test-fields'"), std::string::npos)
      << refused.status();
  // The creation committed before the decode; it was undone.
  EXPECT_FALSE(StoredPayload("Inventory", "erin").has_value());
  auto meta = StoredMeta("Inventory", "erin");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
  EXPECT_EQ(meta->load_count, 0u);
  EXPECT_TRUE(meta->versions.empty());
  EXPECT_EQ(engine_->Stats().active_sessions, 0u);
  auto commits = gate_->Committed();
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].kind, CommitKind::kAcquire);
  EXPECT_EQ(commits[1].kind, CommitKind::kAbandon);

  // The store opened (by the next engine: one engine keeps one set of options per store) with a
  // decodable template creates the profile afresh.
  ReopenEngine();
  auto fixed = OpenInventory();
  auto p = fixed.StartSession("erin");
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), (Fields{{"gold", "0"}}));
  EXPECT_EQ(p->Info().version, 2u);  // version 1 was the undone template
  EXPECT_EQ(p->Info().load_count, 1u);
}

TEST_F(CodecPathsTest, TemplateDecodeErrorOfAnotherCodeIsReportedAsCorruption) {
  auto inventory = OpenInventory([](StoreOptions<Fields>& o) {
    o.template_value = {{"gold", std::string(kWrongSchema)}};
  });
  EXPECT_CODE(inventory.StartSession("fay"), kCorruption);
  EXPECT_FALSE(StoredPayload("Inventory", "fay").has_value());
  auto meta = StoredMeta("Inventory", "fay");
  ASSERT_TRUE(meta.has_value());
  EXPECT_FALSE(meta->lock.has_value());
}

// --- Store::Get ---

TEST_F(CodecPathsTest, GetOfBytesThatDoNotDecodeIsCorruptionAndChangesNothing) {
  auto inventory = OpenInventory();
  WriteHistoryEndingUndecodable(inventory, "gus");  // versions 2, 3 decode; 4 does not
  const auto before = RawRecords("Inventory", "gus");
  auto current = inventory.Get("gus");
  EXPECT_CODE(current, kCorruption);
  EXPECT_NE(current.status().message().find("version 4 is damaged"), std::string::npos)
      << current.status();
  EXPECT_CODE(inventory.Get("gus", 4), kCorruption);
  auto good = inventory.Get("gus", 3);
  ASSERT_OK(good);
  EXPECT_EQ(good->data, (Fields{{"gold", "2"}}));
  ASSERT_OK(inventory.Versions("gus"));               // listing reads no payload
  EXPECT_EQ(RawRecords("Inventory", "gus"), before);  // a read-only view never repairs
}

TEST_F(CodecPathsTest, GetOfIntactBytesTheCodecRefusesIsInvalidArgument) {
  auto inventory = OpenInventory();
  WriteHistoryEndingUndecodable(inventory, "hal", kWrongSchema);
  auto current = inventory.Get("hal");
  EXPECT_CODE(current, kInvalidArgument);
  EXPECT_NE(current.status().message().find("does not decode with codec 'test-fields'"),
            std::string::npos)
      << current.status();
  EXPECT_CODE(inventory.Get("hal", 4), kInvalidArgument);
  ASSERT_OK(inventory.Get("hal", 3));
}

// --- Encoding ---

TEST_F(CodecPathsTest, TemplateThatCannotBeEncodedRefusesOpenStoreAndRegistersNothing) {
  StoreOptions<Fields> options;
  options.template_value = {{"gold", std::string(kUnencodable)}};
  auto refused = engine_->OpenStore<FieldsCodec>("Inventory", options);
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.status().message().find("encoding the template"), std::string::npos)
      << refused.status();
  const auto stores = engine_->Info().stores;
  EXPECT_EQ(std::find(stores.begin(), stores.end(), "Inventory"), stores.end());
  auto inventory = OpenInventory();
  ASSERT_OK(inventory.StartSession("ivy"));
}

TEST_F(CodecPathsTest, EncodeFailureAtSaveIsInvalidArgumentWritesNothingAndKeepsTheSession) {
  auto inventory = OpenInventory();
  auto p = inventory.StartSession("jay");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = "5"; }));
  ASSERT_OK(p->Save());
  ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = std::string(kUnencodable); }));
  const auto before = RawRecords("Inventory", "jay");
  Status refused = p->Save();
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.message().find("the session stays active"), std::string::npos)
      << refused.ToString();
  EXPECT_TRUE(p->IsActive());
  EXPECT_EQ(RawRecords("Inventory", "jay"), before);
  EXPECT_EQ(p->Data().at("gold"), kUnencodable);  // kept in memory
  EXPECT_EQ(p->LastSavedData(), (Fields{{"gold", "5"}}));
  ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = "6"; }));
  ASSERT_OK(p->Save());
  EXPECT_EQ(StoredFields("jay"), (Fields{{"gold", "6"}}));
}

TEST_F(CodecPathsTest, EncodeFailureAtEndSessionKeepsTheSessionTheLockAndTheEdits) {
  auto inventory = OpenInventory();
  auto p = inventory.StartSession("kim");
  ASSERT_OK(p);
  std::vector<SessionEnd> ends;
  p->OnSessionEnd([&](const SessionEnd& e) { ends.push_back(e); });
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = std::string(kUnencodable); }));
  const auto before = RawRecords("Inventory", "kim");
  EXPECT_CODE(p->EndSession(), kInvalidArgument);
  EXPECT_TRUE(p->IsActive());
  EXPECT_TRUE(ends.empty());
  EXPECT_EQ(RawRecords("Inventory", "kim"), before);
  auto meta = StoredMeta("Inventory", "kim");
  ASSERT_TRUE(meta->lock.has_value());
  EXPECT_EQ(meta->lock->session_id, p->Info().session_id);
  // The failed final save took no snapshot: the session accepts edits again.
  ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = "7"; }));
  ASSERT_OK(p->EndSession());
  EXPECT_EQ(StoredFields("kim"), (Fields{{"gold", "7"}}));
  EXPECT_FALSE(StoredMeta("Inventory", "kim")->lock.has_value());
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].reason, EndReason::kManual);
  EXPECT_FALSE(ends[0].unsaved_changes);
}

TEST_F(CodecPathsTest, EncodeFailureAtHandoffKeepsTheHolderUntilTheTimeoutThenItIsStolen) {
  auto inventory = OpenInventory([](StoreOptions<Fields>& o) { o.handoff_timeout = 5s; });
  auto holder = inventory.StartSession("lea");
  ASSERT_OK(holder);
  std::optional<SessionEnd> holder_end;
  holder->OnSessionEnd([&](const SessionEnd& e) { holder_end = e; });
  std::future<Result<Profile<FieldsCodec>>> starter;
  auto close_first = CloseEngineAtExit();
  ASSERT_OK(holder->Edit([](Fields& d) { d["gold"] = "3"; }));
  ASSERT_OK(holder->Save());
  ASSERT_OK(holder->Edit([](Fields& d) { d["gold"] = std::string(kUnencodable); }));
  const auto before = RawRecords("Inventory", "lea");

  const int failures = EncodeFailures::Count();
  starter = std::async(std::launch::async, [&] { return inventory.StartSession("lea"); });
  // The holder's handoff final save runs on a worker and fails to encode.
  ASSERT_TRUE(EncodeFailures::WaitFor(failures + 1));
  EXPECT_TRUE(holder->IsActive());
  EXPECT_EQ(RawRecords("Inventory", "lea"), before);
  // Nothing else lets the starter in before the handoff timeout.
  EXPECT_NE(starter.wait_for(0s), std::future_status::ready);
  ASSERT_OK(holder->Edit([](Fields& d) { d["gems"] = "1"; }));  // still accepts edits

  clock_->Advance(5s);
  ASSERT_EQ(starter.wait_for(kDeadline), std::future_status::ready);
  auto next = starter.get();
  ASSERT_OK(next);
  EXPECT_EQ(next->Data(), (Fields{{"gold", "3"}}));  // the holder's last stored data
  ASSERT_TRUE(holder_end.has_value());
  EXPECT_EQ(holder_end->reason, EndReason::kStolen);
  EXPECT_TRUE(holder_end->unsaved_changes);
  EXPECT_EQ(holder->Data(), (Fields{{"gold", std::string(kUnencodable)}, {"gems", "1"}}));
  EXPECT_EQ(engine_->Stats().steals, 1u);
  EXPECT_EQ(engine_->Stats().handoffs, 0u);
  EXPECT_EQ(StoredFields("lea"), (Fields{{"gold", "3"}}));
  EXPECT_EQ(StoredMeta("Inventory", "lea")->lock->session_id, next->Info().session_id);
}

TEST_F(CodecPathsTest, EncodeFailureAtShutdownFailsCloseAndTheNextOpenLoadsTheLastSave) {
  std::optional<SessionEnd> end;
  {
    auto inventory = OpenInventory();
    auto p = inventory.StartSession("max");
    ASSERT_OK(p);
    p->OnSessionEnd([&](const SessionEnd& e) { end = e; });
    ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = "8"; }));
    ASSERT_OK(p->Save());
    ASSERT_OK(p->Edit([](Fields& d) { d["gold"] = std::string(kUnencodable); }));
    EXPECT_CODE(engine_->Close(), kInvalidArgument);
    ASSERT_TRUE(end.has_value());
    EXPECT_EQ(end->reason, EndReason::kShutdown);
    EXPECT_TRUE(end->unsaved_changes);
    EXPECT_EQ(p->Data().at("gold"), kUnencodable);  // still readable
  }
  engine_.reset();
  OpenEngine();
  EXPECT_EQ(StoredFields("max"), (Fields{{"gold", "8"}}));
  auto inventory = OpenInventory();
  auto p = inventory.StartSession("max");  // takes over the lock the closed engine left
  ASSERT_OK(p);
  EXPECT_EQ(p->Data(), (Fields{{"gold", "8"}}));
  EXPECT_EQ(engine_->Stats().orphans_taken_over, 1u);
}

// --- Reconcile ---

TEST_F(CodecPathsTest, ReconcileFillsMissingFieldsFromTheTemplateWhenTheCodecSupportsIt) {
  StoreOptions<Fields> options;
  options.template_value = {{"gold", "0"}, {"gems", "0"}};
  auto bank = engine_->OpenStore<ReconcilingFieldsCodec>("Bank", options);
  ASSERT_OK(bank);
  auto p = bank->StartSession("nia");
  ASSERT_OK(p);
  // Data saved before the template gained "gems".
  ASSERT_OK(p->Edit([](Fields& d) { d = {{"gold", "5"}}; }));
  ASSERT_OK(p->Save());
  ASSERT_OK(p->Reconcile());
  EXPECT_EQ(p->Data(), (Fields{{"gold", "5"}, {"gems", "0"}}));  // existing fields kept
  ASSERT_OK(p->EndSession());
  auto stored = bank->Get("nia");
  ASSERT_OK(stored);
  EXPECT_EQ(stored->data, (Fields{{"gold", "5"}, {"gems", "0"}}));
  EXPECT_CODE(p->Reconcile(), kLockLost);
  EXPECT_EQ(p->Data(), (Fields{{"gold", "5"}, {"gems", "0"}}));
}

TEST_F(CodecPathsTest, ReconcileWithoutCodecSupportSaysSoAndLeavesTheDataAsItIs) {
  auto inventory = OpenInventory([](StoreOptions<Fields>& o) {
    o.template_value = {{"gold", "0"}, {"gems", "0"}};
  });
  auto p = inventory.StartSession("oli");
  ASSERT_OK(p);
  ASSERT_OK(p->Edit([](Fields& d) { d = {{"gold", "5"}}; }));
  ASSERT_OK(p->Save());
  const auto before = RawRecords("Inventory", "oli");
  auto refused = p->Reconcile();
  EXPECT_CODE(refused, kInvalidArgument);
  EXPECT_NE(refused.message().find("cannot reconcile"), std::string::npos) << refused;
  EXPECT_EQ(p->Data(), (Fields{{"gold", "5"}}));
  ASSERT_OK(p->Save());  // nothing changed: nothing written
  EXPECT_EQ(RawRecords("Inventory", "oli"), before);
  ASSERT_OK(p->EndSession());
  EXPECT_CODE(p->Reconcile(), kInvalidArgument);
}

}  // namespace
}  // namespace holdfast::test
