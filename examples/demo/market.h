// Market: players trading items with each other. Each trade moves items from a seller to a
// buyer (for coins, or for one of the buyer's items) with Engine::Trade: the edits of both
// players and ONE commit storing both (SaveTogether's), so both sides of a trade are stored or
// neither — also when the process is killed in the middle of it, and also with auto-save on.
//
// Threads: Run starts its own trader threads. A player is in one trade at a time
// (Player::trade_mu, taken for both players at once, so traders never deadlock): the terms are
// agreed on data no other trade can change before the trade is made.
#ifndef HOLDFAST_EXAMPLES_DEMO_MARKET_H_
#define HOLDFAST_EXAMPLES_DEMO_MARKET_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>

#include "world.h"

namespace holdfast_demo {

// What the traders did. Updated by every trader thread.
struct MarketTally {
  std::atomic<uint64_t> trades{0};       // stored (both players in one commit)
  std::atomic<uint64_t> items_moved{0};  // items that changed hands in those trades
  std::atomic<uint64_t> coins_paid{0};
  std::atomic<uint64_t> no_deal{0};  // pairs that had nothing to trade
};

class Market {
 public:
  explicit Market(World& world) : world_(world) {}

  // Runs `threads` traders until `trades` trades are stored (unlimited: until the process is
  // killed) or a trade fails. `on_trade(n)` is called after the n-th trade is stored, on the
  // trader's thread. Returns the first failure (its trade was not stored, and both players'
  // data was put back as it was).
  holdfast::Status Run(int threads, uint64_t seed, uint64_t trades, MarketTally& tally,
                       const std::function<void(uint64_t)>& on_trade = nullptr);

  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();

 private:
  // One trade between two random players (or none, when they have nothing to trade).
  holdfast::Status TradeOnce(std::mt19937_64& rng, MarketTally& tally, bool* traded);

  World& world_;
};

}  // namespace holdfast_demo

#endif  // HOLDFAST_EXAMPLES_DEMO_MARKET_H_
