// The store the tests of engines sharing a PostgreSQL database use (postgres_peers_test.cc,
// postgres_process_test.cc): "players", bytes, template "new", auto-save off (only the paths
// under test write), a handoff_timeout far longer than any of these tests runs, so a handoff
// that degraded into a steal after the timeout would show.
#ifndef HOLDFAST_TESTS_PEER_STORE_H_
#define HOLDFAST_TESTS_PEER_STORE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "holdfast/holdfast.h"

namespace holdfast::test {

inline Store<BytesCodec> PeerPlayers(Engine& engine) {
  StoreOptions<std::string> options;
  options.template_value = "new";
  options.autosave = false;
  options.handoff_timeout = std::chrono::seconds(20);
  options.start_timeout = std::chrono::seconds(60);
  auto store = engine.OpenStore<BytesCodec>("players", options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(*store);
}

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_PEER_STORE_H_
