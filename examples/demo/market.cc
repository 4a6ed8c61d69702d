#include "market.h"

#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace holdfast_demo {
namespace {

using holdfast::Status;

// The terms of one trade: the seller hands `quantity` of `item` to the buyer, who pays `price`
// coins — or, when `swap_item` is set, one `swap_item` instead.
struct Deal {
  std::string item;
  int64_t quantity = 0;
  int64_t price = 0;
  std::string swap_item;
};

// Something the seller has and the buyer can pay for, or nothing.
std::optional<Deal> Haggle(const Json& seller, const Json& buyer, std::mt19937_64& rng) {
  std::vector<std::string> for_sale;
  for (const auto& [name, count] : seller["items"].items()) {
    if (count.get<int64_t>() > 0) for_sale.push_back(name);
  }
  if (for_sale.empty()) return std::nullopt;
  Deal deal;
  deal.item = for_sale[rng() % for_sale.size()];
  const int64_t stock = seller["items"][deal.item].get<int64_t>();
  deal.quantity = 1 + static_cast<int64_t>(rng() % std::min<int64_t>(stock, 3));
  deal.price = deal.quantity * (5 + static_cast<int64_t>(rng() % 16));
  if (buyer["coins"].get<int64_t>() >= deal.price) return deal;
  // Short of coins: barter one of the buyer's own items instead.
  deal.price = 0;
  for (const auto& [name, count] : buyer["items"].items()) {
    if (name != deal.item && count.get<int64_t>() > 0) {
      deal.swap_item = name;
      return deal;
    }
  }
  return std::nullopt;
}

// Applies the deal to one side: `sign` +1 for the seller, -1 for the buyer.
void Settle(const Deal& deal, int sign, Json& document) {
  Json& items = document["items"];
  items[deal.item] = items[deal.item].get<int64_t>() - sign * deal.quantity;
  document["coins"] = document["coins"].get<int64_t>() + sign * deal.price;
  if (!deal.swap_item.empty()) {
    items[deal.swap_item] = items.value(deal.swap_item, int64_t{0}) + sign;
  }
}

}  // namespace

Status Market::TradeOnce(std::mt19937_64& rng, MarketTally& tally, bool* traded) {
  *traded = false;
  std::vector<Player>& players = world_.players();
  const size_t a = rng() % players.size();
  size_t b = rng() % (players.size() - 1);
  if (b >= a) ++b;
  Player& seller = players[a];
  Player& buyer = players[b];
  std::scoped_lock in_trade(seller.trade_mu, buyer.trade_mu);

  std::optional<Deal> deal = Haggle(seller.profile->Data(), buyer.profile->Data(), rng);
  if (!deal) {
    tally.no_deal.fetch_add(1);
    return Status::Ok();
  }
  // Engine::Trade: both edits run while neither player can be saved alone (no auto-save,
  // no handoff, no gift), then one SaveTogether commit stores both. If that commit fails, both
  // players' data is put back: the trade happened in storage and in memory, or in neither.
  Status s = world_.engine().Trade(
      [&]() -> Status {
        Status seller_side = seller.profile->Edit([&](Json& d) { Settle(*deal, +1, d); });
        if (!seller_side.ok()) return seller_side;
        return buyer.profile->Edit([&](Json& d) { Settle(*deal, -1, d); });
      },
      *seller.profile, *buyer.profile);
  if (!s.ok()) return s.WithContext("trade between " + seller.key + " and " + buyer.key);
  *traded = true;
  tally.items_moved.fetch_add(deal->quantity + (deal->swap_item.empty() ? 0 : 1));
  tally.coins_paid.fetch_add(deal->price);
  return Status::Ok();
}

Status Market::Run(int threads, uint64_t seed, uint64_t trades, MarketTally& tally,
                   const std::function<void(uint64_t)>& on_trade) {
  std::atomic<uint64_t> started{0};  // trades claimed by a trader
  std::atomic<bool> failed{false};
  std::mutex failure_mu;
  Status failure;
  auto trader = [&](uint64_t thread_seed) {
    std::mt19937_64 rng(thread_seed);
    while (!failed.load() && started.fetch_add(1) < trades) {
      bool traded = false;
      Status s;
      // A pair with nothing to trade does not count; try another pair.
      while (s.ok() && !traded && !failed.load()) s = TradeOnce(rng, tally, &traded);
      if (!s.ok()) {
        std::lock_guard lock(failure_mu);
        if (!failed.exchange(true)) failure = s;
        return;
      }
      const uint64_t done = tally.trades.fetch_add(1) + 1;
      if (on_trade) on_trade(done);
    }
  };
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) workers.emplace_back(trader, seed * 1'000'003 + i * 7'919);
  for (std::thread& t : workers) t.join();
  std::lock_guard lock(failure_mu);
  return failure;
}

}  // namespace holdfast_demo
