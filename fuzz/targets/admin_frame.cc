// Fuzz target: admin socket frame bodies (schema/admin_frame.fbs, file identifier "HFAF") —
// what arrives on a running engine's admin socket and what AdminClient reads back — through
// DecodeAdminRequest, DecodeAdminResponse and the server's HandleAdminFrame. Checked:
//  - decoding returns a value or InvalidArgument, never crashes (the bytes are copied to an
//    odd address first: decoding must not depend on the input's alignment);
//  - a decoded request (field by field) or response survives encode -> decode, and each
//    encodes deterministically;
//  - HandleAdminFrame always answers with a response frame that decodes; garbage gets
//    InvalidArgument and reaches no admin call; a request that decodes reaches at most one.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "admin_dispatch.h"
#include "admin_frame.h"
#include "fuzz_util.h"

namespace {

using namespace holdfast;
using namespace holdfast::internal;

// Counts the calls it gets and answers each with NotFound: the dispatch, not the engine, is
// under test here.
class CountingAdmin final : public AdminService {
 public:
  int calls = 0;
  Status No() {
    ++calls;
    return Status::NotFound("fuzz");
  }
  Result<EngineInfo> Info() override { return No(); }
  Result<StoreRegistration> Registration(std::string_view) override { return No(); }
  Result<std::vector<StoreSummary>> Stores() override { return No(); }
  Result<ProfileList> Profiles(std::string_view, const ProfileQuery&) override { return No(); }
  Result<std::vector<HeldLock>> Locks(std::string_view) override { return No(); }
  Result<ProfileDetails> Inspect(std::string_view, std::string_view,
                                 std::optional<uint64_t>) override {
    return No();
  }
  Result<std::vector<VersionInfo>> Versions(std::string_view, std::string_view,
                                            const VersionQuery&) override {
    return No();
  }
  Result<std::vector<ProfileLocation>> FindByUserId(int64_t) override { return No(); }
  Result<VerifyReport> Verify(std::string_view) override { return No(); }
  Result<EngineStats> Stats() override { return No(); }
  Status Checkpoint(const std::string&) override { return No(); }
  Status Compact() override { return No(); }
  Result<uint64_t> Rollback(std::string_view, std::string_view, uint64_t) override { return No(); }
  Result<uint64_t> RollbackTo(std::string_view, std::string_view, int64_t) override { return No(); }
  Result<uint64_t> Edit(std::string_view, std::string_view, std::string_view) override {
    return No();
  }
  Result<ReleaseOutcome> Release(std::string_view, std::string_view) override { return No(); }
  Status Message(std::string_view, std::string_view, std::string_view) override { return No(); }
  Status Erase(std::string_view, std::string_view) override { return No(); }
  Result<std::vector<ProfileLocation>> EraseUser(int64_t) override { return No(); }
};

// Field by field: an encoder that drops a field fails here even though it is deterministic.
bool SameRequest(const AdminRequest& a, const AdminRequest& b) {
  return a.op == b.op && a.store == b.store && a.key == b.key && a.version == b.version &&
         a.unix_ms == b.unix_ms && a.payload == b.payload && a.user_id == b.user_id &&
         a.profiles.prefix == b.profiles.prefix && a.profiles.limit == b.profiles.limit &&
         a.profiles.after_key == b.profiles.after_key && a.versions.limit == b.versions.limit &&
         a.versions.from_unix_ms == b.versions.from_unix_ms &&
         a.versions.to_unix_ms == b.versions.to_unix_ms &&
         a.versions.before_version == b.versions.before_version && a.path == b.path;
}

template <typename Decoded>
void CheckRoundTrip(const Result<Decoded>& decoded, std::string (*encode)(const Decoded&),
                    Result<Decoded> (*decode)(std::string_view), const char* what) {
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().code() == StatusCode::kInvalidArgument,
               what << ": " << decoded.status());
    return;
  }
  const std::string once = encode(*decoded);
  FUZZ_CHECK(once == encode(*decoded), what << ": encoding is not deterministic");
  auto again = decode(once);
  FUZZ_CHECK(again.ok(), what << ": its own encoding does not decode: " << again.status());
  FUZZ_CHECK(encode(*again) == once, what << ": encode -> decode changed it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One byte past an 8-byte boundary.
  std::vector<char> buffer(size + 1);
  if (size > 0) std::memcpy(buffer.data() + 1, data, size);
  const std::string_view body(buffer.data() + 1, size);

  auto request = DecodeAdminRequest(body);
  CheckRoundTrip<AdminRequest>(request, EncodeAdminRequest, DecodeAdminRequest, "request");
  if (request.ok()) {
    auto again = DecodeAdminRequest(EncodeAdminRequest(*request));
    FUZZ_CHECK(again.ok() && SameRequest(*request, *again), "request: encode -> decode lost a field");
  }
  auto response = DecodeAdminResponse(body);
  CheckRoundTrip<AdminResponse>(response, EncodeAdminResponse, DecodeAdminResponse, "response");

  CountingAdmin admin;
  const std::string answer = HandleAdminFrame(admin, body, size_t{16} << 20);
  auto decoded = DecodeAdminResponse(answer);
  FUZZ_CHECK(decoded.ok(), "the server's answer does not decode: " << decoded.status());
  if (request.ok()) {
    // One call, or none for a request its op cannot run (a rollback without a version).
    FUZZ_CHECK(admin.calls <= 1, "a request reached " << admin.calls << " admin calls");
    FUZZ_CHECK(decoded->status.code() ==
                   (admin.calls == 1 ? StatusCode::kNotFound : StatusCode::kInvalidArgument),
               decoded->status);
  } else {
    FUZZ_CHECK(admin.calls == 0, "garbage reached an admin call: "
                                     << holdfast::fuzz::Printable(body));
    FUZZ_CHECK(decoded->status.code() == StatusCode::kInvalidArgument, decoded->status);
  }
  return 0;
}
