// ImplAccess: the one door between the public handles (Engine, RawStore, RawSession) and the
// engine's implementation types behind them. Engine code uses it to build handles; tests reach
// internals through tests/support/internals.h, which uses it. Never installed.
#ifndef HOLDFAST_SRC_IMPL_ACCESS_H_
#define HOLDFAST_SRC_IMPL_ACCESS_H_

#include <memory>

#include "holdfast/engine.h"
#include "holdfast/raw_store.h"
#include "holdfast/session.h"

namespace holdfast {

struct ImplAccess {
  static Engine::Impl& Of(Engine& engine) { return *engine.impl_; }
  static const std::shared_ptr<RawStore::Impl>& Of(const RawStore& store) { return store.impl_; }
  static const std::shared_ptr<RawSession::Impl>& Of(const RawSession& session) {
    return session.impl_;
  }

  static RawStore Wrap(std::shared_ptr<RawStore::Impl> impl) { return RawStore(std::move(impl)); }
  static RawSession Wrap(std::shared_ptr<RawSession::Impl> impl) {
    return RawSession(std::move(impl));
  }
};

}  // namespace holdfast

#endif  // HOLDFAST_SRC_IMPL_ACCESS_H_
