#include "holdfast/engine.h"

#include "engine_core.h"
#include "memory_volume.h"
#include "records.h"
#include "session_runtime.h"

namespace holdfast {

std::shared_ptr<MemoryVolume> MemoryVolume::Create() {
  return std::make_shared<internal::MemoryVolumeImpl>();
}

Result<std::unique_ptr<Engine>> Engine::Open(const std::string& path, EngineOptions options) {
  auto core = internal::EngineCore::Open(path, std::move(options));
  if (!core.ok()) return core.status();
  return std::unique_ptr<Engine>(new Engine(std::move(*core)));
}

Engine::Engine(std::unique_ptr<internal::EngineCore> core) : core_(std::move(core)) {}
Engine::~Engine() { (void)Close(); }

Status Engine::Close() { return core_->Close(); }
bool Engine::IsClosing() const { return core_->IsClosing(); }
EngineInfo Engine::Info() const { return core_->Info(); }
EngineStats Engine::Stats() const { return core_->runtime().Stats(); }

Result<std::shared_ptr<internal::StoreCore>> Engine::OpenStoreCore(std::string_view name,
                                                                   std::string_view codec,
                                                                   const StoreSettings& settings,
                                                                   PayloadValidator check) {
  return core_->OpenStore(name, codec, settings, std::move(check));
}

std::string_view Version() { return HOLDFAST_VERSION_STRING; }
uint32_t SupportedFormatVersion() { return internal::kFormatVersion; }

}  // namespace holdfast
