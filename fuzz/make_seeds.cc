// Writes the seed inputs of every fuzz target: valid encodings of each record (from the engine's
// own encoders), damaged variants the decoders must refuse, key encodings, and operation
// sequences for session_ops and session_reopen. Files are named seed-*; inputs the fuzzer found
// (merged with scripts/fuzz.sh, FUZZ_MERGE=1) and reproducers (regress-*) live beside them.
//
//   cmake --build build --target holdfast_fuzz_seeds && build/fuzz/holdfast_fuzz_seeds fuzz/corpus
//
// Rerun it after a format change; old seeds may stay, as records of an older format version.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "admin_frame.h"
#include "crc32c.h"
#include "holdfast_schema/manifest_generated.h"
#include "holdfast_schema/profile_meta_generated.h"
#include "holdfast_schema/profile_record_generated.h"
#include "holdfast_schema/version_record_generated.h"
#include "key_codec.h"
#include "records.h"
#include "render_fuzz_schema.h"
#include "session_driver.h"

namespace holdfast::fuzz {
namespace {

namespace fs = std::filesystem;
using namespace holdfast::internal;

fs::path g_root;
int g_written = 0;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "make_seeds: cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
  ++g_written;
}

// A flatbuffer wrapped in the checksum envelope, as records.cc does.
std::string Seal(const flatbuffers::FlatBufferBuilder& fbb) {
  std::string out(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  uint32_t masked = MaskCrc(Crc32c(out));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return out;
}

std::string Reseal(std::string value) {
  value.resize(value.size() - 4);
  uint32_t masked = MaskCrc(Crc32c(value));
  for (int i = 0; i < 4; ++i) value.push_back(static_cast<char>((masked >> (8 * i)) & 0xff));
  return value;
}

// Damaged variants every record target gets from one valid value.
void WriteDamaged(const std::string& target, const std::string& valid) {
  Write(target, "damaged-truncated", valid.substr(0, valid.size() / 2));
  Write(target, "damaged-envelope-only", valid.substr(valid.size() - 12));
  std::string flipped = valid;
  flipped[flipped.size() / 2] ^= 0x40;
  Write(target, "damaged-bitflip", flipped);
  Write(target, "damaged-bitflip-resealed", Reseal(flipped));
  std::string identifier = valid;
  identifier[4] = 'X';
  Write(target, "damaged-identifier", Reseal(identifier));
  std::string root = valid;
  root[0] = static_cast<char>(0xfc);
  root[1] = static_cast<char>(0xff);
  Write(target, "damaged-root-offset", Reseal(root));
  Write(target, "damaged-empty", "");
}

void ProfileRecords() {
  const std::string t = "profile_record";
  ProfileRecord r{42, std::string("coins=100\0items=[sword]", 23), "bytes", 1'767'225'600'123, 7};
  std::string valid = EncodeProfileRecord(r);
  Write(t, "valid", valid);
  Write(t, "valid-empty", EncodeProfileRecord(ProfileRecord{}));
  Write(t, "valid-large",
        EncodeProfileRecord(
            {UINT64_MAX, std::string(600, 'x'), "flatbuffer:Player", INT64_MIN, UINT64_MAX}));
  WriteDamaged(t, valid);
  // Payload bytes changed behind an intact envelope: only the payload checksum can tell.
  std::string payload = valid;
  payload[payload.find("coins")] = 'C';
  Write(t, "damaged-payload-crc", Reseal(payload));
  for (uint32_t format : {0u, kFormatVersion + 1}) {
    flatbuffers::FlatBufferBuilder fbb;
    auto bytes = fbb.CreateVector(std::vector<uint8_t>{1, 2, 3});
    fb::FinishProfileRecordBuffer(
        fbb, fb::CreateProfileRecord(fbb, format, bytes, 1, MaskCrc(Crc32c("\1\2\3")),
                                     fbb.CreateString("bytes")));
    Write(t, "damaged-format-" + std::to_string(format), Seal(fbb));
  }
}

void ProfileMetas() {
  const std::string t = "profile_meta";
  ProfileMeta m;
  m.epoch = 9;
  m.lock = SessionLock{3, 11, 9, 1000, 2000, "host-a:1234"};
  m.release_request = ReleaseRequest{4, 1, 2500};
  m.load_count = 5;
  m.first_session_unix_ms = 100;
  m.created_unix_ms = 90;
  m.updated_unix_ms = 2000;
  m.user_ids = {-5, 17, 123456789012345};
  m.metadata = {{"guild", "red"}, {"tier", std::string("\0\1", 2)}};
  m.last_version = 42;
  m.next_message_seq = 8;
  m.acked_message_seq = 6;
  m.versions = {{40, 1000, 0}, {41, 1500, 3}, {42, 2000, 1}};
  std::string valid = EncodeProfileMeta(m);
  Write(t, "valid", valid);
  Write(t, "valid-empty", EncodeProfileMeta(ProfileMeta{}));
  ProfileMeta free_profile = m;
  free_profile.lock.reset();
  free_profile.release_request.reset();
  Write(t, "valid-unlocked", EncodeProfileMeta(free_profile));
  WriteDamaged(t, valid);
  {
    flatbuffers::FlatBufferBuilder fbb;  // a metadata entry without its key
    auto value = fbb.CreateVector(std::vector<uint8_t>{'v'});
    std::vector<flatbuffers::Offset<fb::MetadataEntry>> entries{
        fb::CreateMetadataEntry(fbb, 0, value)};
    auto metadata = fbb.CreateVector(entries);
    fb::ProfileMetaBuilder b(fbb);
    b.add_format_version(kFormatVersion);
    b.add_metadata(metadata);
    fb::FinishProfileMetaBuffer(fbb, b.Finish());
    Write(t, "damaged-metadata-without-key", Seal(fbb));
  }
  {
    flatbuffers::FlatBufferBuilder fbb;  // user ids unsorted, duplicated metadata keys
    auto ids = fbb.CreateVector(std::vector<int64_t>{5, -1, 5});
    std::vector<flatbuffers::Offset<fb::MetadataEntry>> entries;
    for (const char* v : {"a", "b"}) {
      auto key = fbb.CreateString("k");
      entries.push_back(fb::CreateMetadataEntry(
          fbb, key, fbb.CreateVector(reinterpret_cast<const uint8_t*>(v), 1)));
    }
    auto metadata = fbb.CreateVector(entries);
    fb::ProfileMetaBuilder b(fbb);
    b.add_format_version(kFormatVersion);
    b.add_user_ids(ids);
    b.add_metadata(metadata);
    fb::FinishProfileMetaBuffer(fbb, b.Finish());
    Write(t, "odd-unsorted-duplicates", Seal(fbb));
  }
}

void VersionRecords() {
  const std::string t = "version_record";
  VersionRecord v{41, "old data", "json", 55, VersionReason::kRollback, 6, 12};
  std::string valid = EncodeVersionRecord(v);
  Write(t, "valid", valid);
  for (uint8_t reason = 0; reason <= kMaxVersionReason; ++reason) {
    VersionRecord r{
        reason + 1u, "p" + std::to_string(reason), "bytes", 1, VersionReason{reason}, 3, 0};
    Write(t, "valid-reason-" + std::to_string(reason), EncodeVersionRecord(r));
  }
  WriteDamaged(t, valid);
  {
    flatbuffers::FlatBufferBuilder fbb;
    auto payload = fbb.CreateVector(std::vector<uint8_t>{});
    fb::FinishVersionRecordBuffer(
        fbb, fb::CreateVersionRecord(fbb, kFormatVersion, 1, payload, MaskCrc(Crc32c("")), 0, 0,
                                     static_cast<fb::VersionReason>(kMaxVersionReason + 1)));
    Write(t, "damaged-unknown-reason", Seal(fbb));
  }
}

void MessageRecords() {
  const std::string t = "message_record";
  std::string valid = EncodeMessageRecord(MessageRecord{7, "gift:gold=50", 1'767'225'600'000});
  Write(t, "valid", valid);
  Write(t, "valid-empty-payload", EncodeMessageRecord(MessageRecord{1, "", 0}));
  Write(t, "valid-binary", EncodeMessageRecord(MessageRecord{UINT64_MAX, std::string("\0\xff", 2), -1}));
  WriteDamaged(t, valid);
}

void Manifests() {
  const std::string t = "manifest";
  Manifest m;
  m.created_unix_ms = 10;
  m.last_incarnation = 77;
  m.stores = {{"Guilds", "flatbuffer:Guild", std::string("bfbs\0x", 6), 12},
              {"Players", "bytes", "", 11}};
  m.last_writer = "holdfast 0.1.0";
  std::string valid = EncodeManifest(m);
  Write(t, "valid", valid);
  Write(t, "valid-empty", EncodeManifest(Manifest{}));
  Manifest newer = m;
  newer.format_version = kFormatVersion + 1;
  Write(t, "valid-newer-format", EncodeManifest(newer));
  Manifest missing = m;
  missing.format_version = 0;
  Write(t, "damaged-format-0", EncodeManifest(missing));
  WriteDamaged(t, valid);
  {
    flatbuffers::FlatBufferBuilder fbb;  // a store entry without a name
    std::vector<flatbuffers::Offset<fb::StoreEntry>> stores{
        fb::CreateStoreEntry(fbb, 0, fbb.CreateString("bytes"))};
    auto vec = fbb.CreateVector(stores);
    fb::FinishManifestBuffer(fbb, fb::CreateManifest(fbb, kFormatVersion, 1, 1, vec));
    Write(t, "damaged-store-without-name", Seal(fbb));
  }
}

void Keys() {
  const std::string t = "key_codec";
  Write(t, "profile", EncodeProfileKey("Players", "alice"));
  Write(t, "profile-binary", EncodeProfileKey("P", std::string("\0\xff\0", 3)));
  Write(t, "version", EncodeVersionKey("Players", "alice", 42));
  Write(t, "message", EncodeMessageKey("Guilds", "red", UINT64_MAX));
  Write(t, "longest",
        EncodeVersionKey(std::string(64, 'S'), std::string(256, '\xff'), 0x0102030405060708));
  std::string valid = EncodeProfileKey("Players", "alice");
  Write(t, "damaged-empty", "");
  Write(t, "damaged-store-length-0", std::string("\0\0\1k", 4));
  Write(t, "damaged-store-length-65",
        std::string(1, 65) + std::string(65, 's') + std::string("\0\1k", 3));
  Write(t, "damaged-store-byte", EncodeProfileKey("bad/name", "k"));
  Write(t, "damaged-truncated", valid.substr(0, valid.size() - 1));
  Write(t, "damaged-trailing", valid + "x");
  Write(t, "damaged-key-length-0", std::string("\1P\0\0", 4));
  Write(t, "damaged-key-length-257", std::string("\1P\1\1", 4) + std::string(257, 'k'));
}

// JSON payloads: documents a game stores, and bytes JsonCodec must refuse.
void JsonPayloads() {
  const std::string t = "json_codec";
  Write(t, "profile", R"({"coins":120,"inventory":["sword","shield"],"settings":{"music":true}})");
  Write(t, "scalars", R"([0,-1,1.5e300,"a\"b\u00e9",true,false,null])");
  Write(t, "unicode", "{\"name\":\"\xc3\xa9l\xc3\xa8ve\"}");
  Write(t, "at-the-depth-limit", std::string(256, '[') + std::string(256, ']'));
  Write(t, "too-deep", std::string(257, '[') + std::string(257, ']'));
  Write(t, "brackets-in-strings", "[\"[[[[{{{{\\\"\"]");
  Write(t, "not-json", "coins=12");
  Write(t, "truncated", R"({"coins":1)");
  Write(t, "bad-utf8", "\"\xc3\x28\"");
  Write(t, "empty", "");
}

// Inputs of schema_render (its first byte is the mode: see fuzz/targets/schema_render.cc).
void RenderInputs() {
  const std::string t = "schema_render";
  const std::string schema = RenderFuzzBinarySchema();
  const std::string mode0(1, '\0');
  auto payload = [](const char* json) {
    std::string p = RenderFuzzPayload(json);
    if (p.empty()) {
      std::fprintf(stderr, "make_seeds: bad schema_render JSON %s\n", json);
      std::exit(1);
    }
    return p;
  };
  const std::string full = payload(
      R"({"name": "ayla", "coins": 250, "color": "Green", "pos": {"x": 1, "y": 2, "z": 3},
          "stats": {"hp": 80, "mana": 0.5, "nested": {"hp": 1, "nested": {}}},
          "items": [{"name": "sword", "count": 1}, {}], "gold": [1, -2, 300000000000],
          "slots": [{"id": 7, "tag": -1}], "titles": ["rookie", "\u00e9l\u00e8ve"],
          "companion_type": "Item", "companion": {"name": "dog", "count": 2},
          "flags": [true, false]})");
  const std::string empty = payload("{}");
  const std::string pet = payload(R"({"companion_type": "Pet", "companion": {"age": 3}})");
  Write(t, "full", mode0 + full);
  Write(t, "empty", mode0 + empty);
  Write(t, "pet", mode0 + pet);
  Write(t, "truncated", mode0 + full.substr(0, full.size() / 2));
  std::string flipped = full;
  flipped[flipped.size() / 3] ^= 0x40;
  Write(t, "bitflip", mode0 + flipped);
  std::string identifier = full;
  identifier[4] = 'X';
  Write(t, "identifier", mode0 + identifier);
  std::string root = full;
  root[0] = static_cast<char>(0xfc);
  Write(t, "root-offset", mode0 + root);
  Write(t, "nothing", mode0);

  // Mode 1: schema bytes from the input too.
  auto with_schema = [](const std::string& bfbs, const std::string& data) {
    std::string input(1, '\1');
    input.push_back(static_cast<char>(bfbs.size() & 0xff));
    input.push_back(static_cast<char>((bfbs.size() >> 8) & 0xff));
    return input + bfbs + data;
  };
  Write(t, "schema-full", with_schema(schema, full));
  Write(t, "schema-truncated", with_schema(schema.substr(0, schema.size() / 2), full));
  std::string schema_flipped = schema;
  schema_flipped[schema_flipped.size() / 2] ^= 0x01;
  Write(t, "schema-bitflip", with_schema(schema_flipped, full));
  const std::string unions = RenderFuzzBinarySchema(R"(
    table A { x: int; } table B { y: [long]; } union U { A, B }
    table R { many: [U]; one: U; } root_type R;)");
  Write(t, "schema-vector-of-unions", with_schema(unions, empty));
  Write(t, "schema-not-a-schema", with_schema("not a schema", full));

  Write(t, "json", "\2" + std::string(R"({"coins":1,"bag":["a"]})"));
  Write(t, "json-bad", "\2coins=1");
  Write(t, "bytes", "\3\x01\x02");
}

// The `fault` operand of kFault written as "<kind>:<failure>:<how much>" (FaultOf in
// session_driver.h): kind acquire|save|release|rollback; failure io (IOError), full
// (ResourceExhausted), busy (conflicts the engine retries past) or busymax (as many conflicts as
// it retries: the commit fails); how much 0-3, e.g. "save:io:1" fails the next two saves and
// "acquire:busy:3" gives the next acquisition kDefaultTransactionAttempts - 1 conflicts.
int FaultOperand(const std::string& word) {
  static const std::map<std::string, int> kKinds = {
      {"acquire", 0}, {"save", 1}, {"release", 2}, {"rollback", 3}};
  static const std::map<std::string, int> kFailures = {
      {"io", 0}, {"full", 1}, {"busy", 2}, {"busymax", 3}};
  std::istringstream parts(word);
  std::string kind, failure, how_much;
  std::getline(parts, kind, ':');
  std::getline(parts, failure, ':');
  std::getline(parts, how_much);
  if (!kKinds.count(kind) || !kFailures.count(failure) || how_much.size() != 1 ||
      how_much[0] < '0' || how_much[0] > '3') {
    std::fprintf(stderr, "make_seeds: bad fault '%s'\n", word.c_str());
    std::exit(1);
  }
  return FaultByte(kKinds.at(kind), kFailures.at(failure), how_much[0] - '0');
}

// Session operation sequences (fuzz/session_driver.h), written as "op key slot [operand]; ...":
// e.g. "start 0 1" starts a session on key 0 into slot 1, "edit 0 1 5" sets its data to "d5",
// "rollback 0 0 2" rolls key 0 back to version 2 (store operations ignore the slot), "fault 0 0
// release:io:0" fails the next final save on key 0.
std::string Ops(const std::string& script) {
  static const std::map<std::string, SessionOp> kNames = {{"start", SessionOp::kStart},
                                                          {"steal", SessionOp::kStartSteal},
                                                          {"nowait", SessionOp::kStartNoWait},
                                                          {"cancelled", SessionOp::kStartCancelled},
                                                          {"edit", SessionOp::kEdit},
                                                          {"save", SessionOp::kSave},
                                                          {"end", SessionOp::kEnd},
                                                          {"meta", SessionOp::kMeta},
                                                          {"drop", SessionOp::kDrop},
                                                          {"orphan", SessionOp::kOrphan},
                                                          {"autosave", SessionOp::kAutosave},
                                                          {"reopen", SessionOp::kReopen},
                                                          {"rollback", SessionOp::kRollback},
                                                          {"rollto", SessionOp::kRollbackTo},
                                                          {"versions", SessionOp::kVersions},
                                                          {"get", SessionOp::kGet},
                                                          {"fault", SessionOp::kFault}};
  std::string bytes;
  std::istringstream steps(script);
  std::string step;
  size_t ops = 0;
  while (std::getline(steps, step, ';')) {
    std::istringstream words(step);
    std::string name;
    if (!(words >> name)) continue;
    if (++ops > kMaxOps) {  // the driver would ignore the rest
      std::fprintf(stderr, "make_seeds: more than %zu operations in '%s'\n", kMaxOps,
                   script.c_str());
      std::exit(1);
    }
    auto op = kNames.find(name);
    if (op == kNames.end()) {
      std::fprintf(stderr, "make_seeds: unknown operation '%s'\n", name.c_str());
      std::exit(1);
    }
    bytes.push_back(static_cast<char>(op->second));
    int key = 0, slot = 0, operand = 0;
    if (op->second == SessionOp::kAutosave || op->second == SessionOp::kReopen) continue;
    words >> key >> slot;
    bytes.push_back(static_cast<char>(TargetByte(key, slot)));
    if (op->second == SessionOp::kFault) {
      std::string fault;
      words >> fault;
      bytes.push_back(static_cast<char>(FaultOperand(fault)));
    } else if (words >> operand) {
      bytes.push_back(static_cast<char>(operand));
    }
  }
  if (bytes.size() > kMaxInputBytes) {  // libFuzzer would cut it
    std::fprintf(stderr, "make_seeds: more than %zu bytes in '%s'\n", kMaxInputBytes,
                 script.c_str());
    std::exit(1);
  }
  return bytes;
}

void SessionSequences() {
  const std::vector<std::pair<std::string, std::string>> scripts = {
      {"lifecycle",
       "start 0 0; edit 0 0 5; save 0 0; edit 0 0 6; end 0 0; start 0 1; end 0 1; end 0 0;"
       "save 0 0"},
      {"handoff",
       "start 0 0; edit 0 0 9; start 0 1; edit 0 0 10; save 0 0; end 0 0; edit 0 1 11; end 0 1"},
      {"steal",
       "start 1 0; edit 1 0 7; save 1 0; edit 1 0 8; steal 1 1; save 1 0; end 1 0; steal 1 2;"
       "end 1 2"},
      {"no-wait-and-cancel",
       "nowait 2 0; nowait 2 1; cancelled 2 2; cancelled 0 0; edit 2 0 0; end 2 0; nowait 2 1"},
      {"orphan",
       "start 2 0; edit 2 0 12; end 2 0; orphan 2 0; orphan 2 0; start 2 1; end 2 1; orphan 2 0;"
       "steal 2 2; orphan 1 0"},
      {"autosave", "start 0 0; edit 0 0 20; start 1 0; autosave; edit 1 0 21; steal 0 1; save 0 0"},
      {"meta",
       "start 1 0; meta 1 0 5; meta 1 0 2; meta 1 0 12; meta 1 0 4; save 1 0; meta 1 0 1;"
       "meta 1 0 13; steal 1 1; meta 1 0 0; end 1 1; start 1 2"},
      {"meta-empty-value", "start 0 0; meta 0 0 2; save 0 0; meta 0 0 7; end 0 0; start 0 1"},
      {"drop",
       "start 0 0; edit 0 0 30; drop 0 0; start 1 1; edit 1 1 31; drop 1 1; start 1 2;"
       "start 2 0; drop 2 0"},
      {"template-and-empty", "start 0 0; edit 0 0 1; save 0 0; edit 0 0 0; end 0 0; start 0 0"},
      {"empty", ""},
      // Version history: rollbacks (of a live session, to bad versions), views and listings.
      {"rollback",
       "start 0 0; edit 0 0 5; save 0 0; edit 0 0 6; rollback 0 0 2; get 0 0 0; versions 0 0 0;"
       "start 0 1; get 0 0 3; rollback 0 0 9; rollback 0 0 0; end 0 1; edit 0 1 7; get 0 0 4"},
      {"rollback-to-time",
       "start 1 0; edit 1 0 7; save 1 0; autosave; edit 1 0 8; save 1 0; rollto 1 0 4;"
       "rollto 1 0 0; versions 1 0 0; start 1 1; edit 1 1 9; rollto 1 0 9; rollto 1 0 7;"
       "rollto 1 0 11; get 1 0 0; end 1 1"},
      {"rollback-missing-and-orphan",
       "rollback 2 0 1; rollto 2 0 8; versions 2 0 0; get 2 0 0; get 2 0 1; start 2 0; end 2 0;"
       "orphan 2 0; get 2 0 0; rollback 2 0 1; start 2 1; get 2 0 2; end 2 1; orphan 2 0;"
       "rollto 2 0 3; start 2 2"},
      {"rollback-dropped-handle",
       "start 0 0; edit 0 0 9; meta 0 0 5; drop 0 0; rollback 0 0 1; get 0 0 0; start 0 1;"
       "steal 0 2; rollback 0 0 2; edit 0 1 3; save 0 2; end 0 2"},
      {"prune",
       "start 1 0; edit 1 0 2; save 1 0; edit 1 0 3; save 1 0; edit 1 0 4; save 1 0; edit 1 0 5;"
       "save 1 0; edit 1 0 6; save 1 0; versions 1 0 3; get 1 0 1; get 1 0 3; rollback 1 0 2;"
       "rollback 1 0 4; rollback 1 0 4; rollto 1 0 4; versions 1 0 0; get 1 0 0"},
      {"versions-queries",
       "start 2 0; edit 2 0 2; save 2 0; edit 2 0 3; save 2 0; autosave; edit 2 0 4; save 2 0;"
       "versions 2 0 1; versions 2 0 2; versions 2 0 3; versions 2 0 4; versions 2 0 5;"
       "versions 2 0 32; versions 2 0 64; versions 2 0 96; versions 2 0 127; end 2 0"},
  };
  // Sequences around reopens, for session_reopen (session_ops ignores reopens).
  const std::vector<std::pair<std::string, std::string>> reopen_scripts = {
      {"reopen",
       "start 0 0; edit 0 0 3; start 1 0; meta 1 0 0; reopen; save 0 0; end 1 0; edit 0 0 4;"
       "start 0 1; end 0 1"},
      {"reopen-twice", "start 0 0; edit 0 0 3; reopen; start 0 1; edit 0 1 4; reopen; start 0 2"},
      {"reopen-dropped-and-orphan",
       "start 1 0; edit 1 0 6; drop 1 0; start 2 0; end 2 0; orphan 2 0; reopen; start 2 1;"
       "start 1 1; end 1 1"},
      {"reopen-steal", "start 0 0; save 0 0; reopen; steal 0 1; edit 0 0 9; save 0 0; end 0 1"},
      {"reopen-rollback",
       "start 0 0; edit 0 0 3; reopen; rollback 0 0 1; versions 0 0 0; start 0 1; edit 0 1 4;"
       "reopen; rollto 0 0 4; get 0 0 2; get 0 0 0; start 0 2; end 0 2"},
  };
  // Injected faults (kFault), for both targets: failed saves, final saves, starts, steals,
  // handoffs and rollbacks, conflicts below and at the engine's retry limit, the critical state
  // (threshold 3, window shorter than an auto-save period) and auto-saves with mixed results.
  const std::vector<std::pair<std::string, std::string>> fault_scripts = {
      {"fault-save",
       "start 0 0; edit 0 0 5; fault 0 0 save:io:0; save 0 0; get 0 0 0; versions 0 0 0;"
       "save 0 0; get 0 0 0; edit 0 0 6; fault 0 0 save:full:0; save 0 0; end 0 0"},
      {"fault-end",
       "start 1 0; edit 1 0 7; fault 1 0 release:io:0; end 1 0; edit 1 0 8; get 1 0 0; save 1 0;"
       "end 1 0; start 1 1"},
      {"fault-start",
       "fault 2 0 acquire:io:0; start 2 0; get 2 0 0; versions 2 0 0; start 2 0; end 2 0;"
       "orphan 2 0; fault 2 0 acquire:full:0; start 2 1; get 2 0 0; start 2 1; end 2 1"},
      {"fault-steal-fails",
       "start 0 0; edit 0 0 5; meta 0 0 5; fault 0 0 acquire:io:0; steal 0 1; edit 0 0 6;"
       "get 0 0 0; start 0 2; edit 0 2 7; end 0 2"},
      {"fault-handoff",
       "start 1 0; edit 1 0 9; fault 1 0 release:io:0; start 1 1; edit 1 0 3; save 1 0;"
       "edit 1 1 4; end 1 1; versions 1 0 0"},
      {"fault-handoff-busy",
       "start 0 0; edit 0 0 9; fault 0 0 release:busymax:0; start 0 1; end 0 1; start 0 0;"
       "edit 0 0 2; fault 0 0 release:busy:1; start 0 1; end 0 1"},
      {"fault-rollback",
       "start 2 0; edit 2 0 5; save 2 0; end 2 0; fault 2 0 rollback:io:0; rollback 2 0 1;"
       "get 2 0 0; rollback 2 0 1; fault 2 0 rollback:busy:0; rollback 2 0 2; versions 2 0 0;"
       "fault 2 0 rollback:busymax:0; rollto 2 0 4; start 2 1; end 2 1"},
      {"fault-rollback-live",
       "start 0 0; edit 0 0 5; fault 0 0 rollback:io:0; rollback 0 0 1; get 0 0 0; start 0 1;"
       "edit 0 1 6; fault 0 0 release:io:0; rollback 0 0 1; edit 0 1 7; get 0 0 0; start 0 2;"
       "end 0 2"},
      {"fault-rollback-live-both",
       "start 1 0; edit 1 0 5; fault 1 0 release:full:0; fault 1 0 rollback:io:0;"
       "rollback 1 0 1; get 1 0 0; start 1 1; end 1 1"},
      {"fault-critical",
       "start 0 0; fault 0 0 save:io:3; edit 0 0 2; save 0 0; save 0 0; save 0 0; get 0 0 0;"
       "save 0 0; edit 0 0 3; save 0 0; end 0 0"},
      {"fault-critical-window",
       "start 1 0; edit 1 0 2; fault 1 0 save:io:2; save 1 0; save 1 0; autosave;"
       "fault 1 0 save:io:1; save 1 0; save 1 0; get 1 0 0; end 1 0"},
      // Critical, then an auto-save that fails one save and makes two: it leaves the state,
      // with one error in the window or none (the order of the parallel saves); two more errors
      // tell which.
      {"fault-autosave-mixed",
       "start 0 0; start 1 0; start 2 0; edit 0 0 2; edit 1 0 3; edit 2 0 4;"
       "fault 0 0 save:io:3; save 0 0; save 0 0; save 0 0; autosave; fault 1 0 save:io:1;"
       "edit 1 0 5; save 1 0; save 1 0; end 0 0; end 1 0; end 2 0"},
      {"fault-busy",
       "start 2 0; edit 2 0 2; fault 2 0 save:busy:0; save 2 0; edit 2 0 3; fault 2 0 save:busy:3;"
       "save 2 0; fault 2 0 acquire:busy:2; start 2 1; fault 2 0 release:busymax:0; end 2 1;"
       "end 2 1"},
      {"fault-busy-limit-start",
       "fault 0 0 acquire:busymax:1; start 0 0; start 0 0; start 0 0; get 0 0 0"},
  };
  // Reopens after faults, with live sessions (orphan takeover) and after rollbacks.
  const std::vector<std::pair<std::string, std::string>> fault_reopen_scripts = {
      {"reopen-live-orphan",
       "start 0 0; edit 0 0 5; save 0 0; edit 0 0 6; fault 0 0 release:io:0; reopen; edit 0 0 7;"
       "get 0 0 0; start 0 1; end 0 1; versions 0 0 0"},
      {"reopen-after-faults",
       "start 1 0; edit 1 0 3; fault 1 0 save:io:2; save 1 0; save 1 0; save 1 0; reopen;"
       "start 1 1; edit 1 1 4; fault 1 0 save:io:0; save 1 1; end 1 1; get 1 0 0"},
      {"reopen-close-fails",
       "start 0 0; start 2 0; edit 0 0 2; edit 2 0 3; fault 2 0 release:full:0; reopen;"
       "start 2 1; start 0 1; end 0 1; end 2 1"},
      {"reopen-after-rollback",
       "start 0 0; edit 0 0 5; save 0 0; edit 0 0 6; rollback 0 0 1; reopen; get 0 0 0;"
       "versions 0 0 0; start 0 1; get 0 0 4; end 0 1; rollback 0 0 2; reopen; start 0 2;"
       "end 0 2"},
      {"reopen-stale-lock",
       "start 1 0; edit 1 0 4; fault 1 0 acquire:io:0; steal 1 1; reopen; get 1 0 0; start 1 2;"
       "end 1 2"},
      {"reopen-handoff-fails",
       "start 2 0; edit 2 0 8; fault 2 0 release:io:1; start 2 1; reopen; start 2 2; end 2 2"},
  };
  for (const auto& [name, script] : scripts) Write("session_ops", name, Ops(script));
  for (const auto& [name, script] : fault_scripts) {
    Write("session_ops", name, Ops(script));
    Write("session_reopen", name, Ops(script));
  }
  for (const auto& [name, script] : fault_reopen_scripts) {
    Write("session_ops", name, Ops(script));
    Write("session_reopen", name, Ops(script));
  }
  for (const auto& [name, script] : reopen_scripts) {
    Write("session_ops", name, Ops(script));
    Write("session_reopen", name, Ops(script));
  }
  Write("session_reopen", "handoff", Ops(scripts[1].second));
}

// Admin socket frame bodies: a request of every op, responses of every kind, and damage.
void AdminFrames() {
  const std::string target = "admin_frame";
  auto request = [](AdminOp op) {
    AdminRequest r;
    r.op = op;
    r.store = "Players";
    r.key = std::string("al\0ice", 6);
    return r;
  };
  for (uint8_t op = 1; op <= static_cast<uint8_t>(kLastAdminOp); ++op) {
    AdminRequest r = request(static_cast<AdminOp>(op));
    r.version = 2;
    r.unix_ms = 1'767'225'600'000;
    r.payload = R"({"gold":10})";
    r.user_id = -42;
    r.profiles.prefix = "a";
    r.profiles.limit = 5;
    r.profiles.after_key = "aa";
    r.versions.limit = 5;
    r.versions.from_unix_ms = 1;
    r.versions.to_unix_ms = 2;
    r.versions.before_version = 9;
    r.path = "/tmp/checkpoint";
    Write(target, "request-op-" + std::to_string(op), EncodeAdminRequest(r));
  }
  Write(target, "request-minimal", EncodeAdminRequest(request(AdminOp::kStores)));
  AdminRequest no_version = request(AdminOp::kRollback);
  Write(target, "request-rollback-without-version", EncodeAdminRequest(no_version));

  AdminResponse failed;
  failed.status = Status::NotFound("no profile 'nobody'");
  Write(target, "response-error", EncodeAdminResponse(failed));
  AdminResponse full;
  full.number = 5;
  full.info = EngineInfo{"/srv/db", 1, 7, {"Guilds", "Players"}};
  full.stores = {StoreSummary{"Players", "json", 1, 3, 1, 6, 0}};
  full.profiles.profiles = {ProfileSummary{"alice", 3, 2, 7, true, ""},
                            ProfileSummary{"bob", 0, 0, 0, false, "meta: checksum mismatch"}};
  full.profiles.more = true;
  const LockHolder holder{"host:1", 4, 2, 3, 1};
  full.locks = {HeldLock{"Players", "carol", holder, true}};
  ProfileDetails details;
  details.codec = "json";
  details.view.payload = R"({"gold":10})";
  details.view.version = VersionInfo{3, 2, VersionReason::kTrade, 2, 0, 11, false,
                                     {ProfileLocation{"Players", "bob"}}};
  details.view.load_count = 4;
  details.view.user_ids = {7, -42};
  details.view.metadata = {{"region", "eu"}};
  details.view.locked = true;
  details.view.lock = holder;
  details.lock = HeldLock{"Players", "alice", holder, false};
  details.last_version = 3;
  full.details = details;
  full.versions = {details.view.version};
  full.locations = {ProfileLocation{"Players", "alice"}};
  full.verify.stores = 1;
  full.verify.damaged = {DamagedRecord{"Players", "bob", "meta", 0, "checksum mismatch"}};
  full.registration = StoreRegistration{"Players", "flatbuffer:Hero", "(a .bfbs)", 1};
  const std::string valid = EncodeAdminResponse(full);
  Write(target, "response-full", valid);
  AdminResponse stats;
  EngineStats engine_stats;
  engine_stats.active_sessions = 3;
  engine_stats.saves = 12;
  engine_stats.critical = true;
  engine_stats.save_latency = LatencySummary{12, 150, 300, 900, 1200};
  stats.stats = engine_stats;
  Write(target, "response-stats", EncodeAdminResponse(stats));

  Write(target, "damaged-empty", "");
  Write(target, "damaged-truncated", valid.substr(0, valid.size() / 2));
  std::string flipped = valid;
  flipped[flipped.size() / 2] ^= 0x40;
  Write(target, "damaged-bitflip", flipped);
  std::string identifier = valid;
  identifier[4] = 'X';
  Write(target, "damaged-identifier", identifier);
  std::string root = valid;
  root[0] = static_cast<char>(0xfc);
  root[1] = static_cast<char>(0xff);
  Write(target, "damaged-root-offset", root);
  Write(target, "damaged-text", "GET / HTTP/1.1\r\nHost: holdfast\r\n\r\n");
}

}  // namespace
}  // namespace holdfast::fuzz

int main(int argc, char** argv) {
  using namespace holdfast::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus root, e.g. fuzz/corpus>\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  ProfileRecords();
  ProfileMetas();
  VersionRecords();
  Manifests();
  Keys();
  JsonPayloads();
  RenderInputs();
  MessageRecords();
  SessionSequences();
  AdminFrames();
  std::printf("make_seeds: wrote %d seeds under %s\n", g_written, argv[1]);
  return 0;
}
