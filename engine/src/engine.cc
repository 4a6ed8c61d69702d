// Engine: the public handle, forwarding to Engine::Impl.
#include "holdfast/engine.h"

#include "engine_impl.h"
#include "impl_access.h"
#include "live_session.h"
#include "key_codec.h"
#include "memory_volume.h"
#include "records.h"

namespace holdfast {

std::shared_ptr<MemoryVolume> MemoryVolume::Create() {
  return std::make_shared<internal::MemoryVolumeImpl>();
}

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& path, EngineOptions options) {
  auto impl = Impl::Open(path, std::move(options));
  if (!impl.ok()) return impl.status();
  std::unique_ptr<Engine> engine(new Engine(std::move(*impl)));
  if (Status s = engine->impl_->StartAdminSocket(*engine); !s.ok()) {
    (void)engine->Close();
    return s;
  }
  return engine;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { (void)Close(); }

Status Engine::Close() { return impl_->Close(); }
bool Engine::IsClosing() const { return impl_->IsClosing(); }
EngineInfo Engine::Info() const { return impl_->Info(); }
EngineStats Engine::Stats() const { return impl_->Stats(); }

Status Engine::SaveTogether(const std::vector<RawSession>& sessions) {
  return Trade(sessions, nullptr);
}

Status Engine::Trade(const std::vector<RawSession>& sessions,
                     const std::function<Status()>& change) {
  internal::GatePass pass(impl_->context().gate());
  if (!pass.admitted()) return Status::Closed("engine is closed");
  std::vector<std::shared_ptr<RawSession::Impl>> live;
  live.reserve(sessions.size());
  for (const RawSession& s : sessions) {
    const auto& impl = ImplAccess::Of(s);
    if (impl && !impl->BelongsTo(impl_->context())) {
      return Status::InvalidArgument(
          "SaveTogether was given a profile of another engine; one transaction can only span "
          "one database");
    }
    live.push_back(impl);
  }
  return RawSession::Impl::SaveTogether(live, change ? &change : nullptr);
}

Result<std::vector<ProfileLocation>> Engine::FindByUserId(int64_t user_id) {
  internal::GatePass pass(impl_->context().gate());
  if (!pass.admitted()) return Status::Closed("engine is closed");
  std::vector<ProfileLocation> found;
  Status failed;
  Status s = impl_->storage().Scan(
      internal::Family::kDefault, internal::ScanRange::Prefix(internal::UserIdPrefix(user_id)),
      internal::ScanOrder::kForward, [&](std::string_view key, std::string_view) {
        auto entry = internal::DecodeUserIdKey(key);
        if (!entry.ok()) {
          failed = entry.status();
          return false;
        }
        found.push_back({std::move(entry->store), std::move(entry->key)});
        return true;
      });
  if (!s.ok()) return s;
  if (!failed.ok()) return failed.WithContext("the user-id index");
  return found;
}

Result<StoreRegistration> Engine::Registration(std::string_view name) const {
  return impl_->Registration(name);
}

Result<RawStore> Engine::OpenRawStore(std::string_view name, std::string_view codec,
                                      const StoreSettings& settings, std::string template_payload,
                                      PayloadValidator check, std::string_view schema) {
  return impl_->OpenStore(name, codec, settings, std::move(template_payload), std::move(check),
                          schema);
}

std::string_view Version() { return HOLDFAST_VERSION_STRING; }
uint32_t SupportedFormatVersion() { return internal::kFormatVersion; }

}  // namespace holdfast
