#include "mailbox.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace holdfast::crash {
namespace {

using namespace std::chrono_literals;

// The numbers in a mailbox's data ("<op>,<op>,..."); nullopt when it is not such a list.
std::optional<std::vector<uint64_t>> ParseApplied(std::string_view data) {
  std::vector<uint64_t> out;
  while (!data.empty()) {
    const size_t comma = data.find(',');
    if (comma == std::string_view::npos || comma == 0) return std::nullopt;
    auto n = ParseItems(data.substr(0, comma));
    if (!n) return std::nullopt;
    out.push_back(static_cast<uint64_t>(*n));
    data.remove_prefix(comma + 1);
  }
  return out;
}

std::string Join(const std::set<uint64_t>& ids) {
  std::string out;
  for (uint64_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

}  // namespace

std::string MailboxKey(const std::string& prefix, int i) {
  return prefix + "m" + std::to_string(i);
}

// --- Worker side ---

Status MailWorkload::Open(Engine& engine, StoreOptions<std::string> options) {
  options.template_value = "";
  auto store = engine.OpenStore<BytesCodec>(kMail, options);
  if (!store.ok()) return store.status();
  store_.emplace(std::move(*store));
  return Status::Ok();
}

void MailWorkload::Drop() {
  live_.clear();
  store_.reset();
}

std::string MailWorkload::RandomMailbox(std::mt19937_64& rng) const {
  return MailboxKey(prefix_, static_cast<int>(rng() % kMailboxes));
}

Status MailWorkload::Send(const std::string& mailbox, uint64_t op) {
  return store_->Message(mailbox, std::to_string(op));
}

Status MailWorkload::Start(const std::string& mailbox) {
  if (live_.count(mailbox)) {
    if (live_.at(mailbox).IsActive()) return Status::Ok();
    live_.erase(mailbox);
  }
  SessionOptions options;
  // Free, or an orphan of a killed worker: taken at once (on PostgreSQL once its lease ran out).
  options.timeout = start_timeout_;
  auto box = store_->StartSession(mailbox, options);
  if (!box.ok()) return box.status();
  // The handler holds a handle of its own session; an ended session drops it.
  box->SetMessageHandler([handle = *box](const holdfast::Message& m,
                                         const MessageProcessed& processed) mutable {
    Status applied = handle.Edit([&](std::string& d) { d += m.payload + ","; });
    if (applied.ok()) processed();
  });
  live_.emplace(mailbox, std::move(*box));
  return Status::Ok();
}

Status MailWorkload::End(const std::string& mailbox) {
  auto it = live_.find(mailbox);
  if (it == live_.end()) return Status::Ok();
  Status s = it->second.EndSession();
  live_.erase(it);
  return s;
}

Status MailWorkload::Erase(const std::string& mailbox) {
  Status s = store_->Remove(mailbox);
  live_.erase(mailbox);
  return s;
}

// --- Parent side ---

void MailModel::Apply(const Message& m) {
  const auto& w = m.words;
  if (m.kind == "intent" && w.size() >= 4 && w[1].starts_with("mail-")) {
    const uint64_t op = std::strtoull(w[0].c_str(), nullptr, 10);
    pending_[op] = {w[1], w[3]};
    if (w[1] == "mail-send") sent_.insert(op);
    if (w[1] == "mail-erase") boxes_[w[3]].erasing = op;
  } else if (m.kind == "ack" && w.size() >= 2) {
    const uint64_t op = std::strtoull(w[0].c_str(), nullptr, 10);
    auto it = pending_.find(op);
    if (it == pending_.end()) return;
    const auto [name, mailbox] = it->second;
    pending_.erase(it);
    Box& box = boxes_[mailbox];
    if (name == "mail-send" && w[1] == StatusCodeName(StatusCode::kOk)) {
      box.expected.insert(op);
    } else if (name == "mail-erase") {
      if (w[1] == StatusCodeName(StatusCode::kOk) ||
          w[1] == StatusCodeName(StatusCode::kNotFound)) {
        box.erasing.reset();
        box.expected.clear();
        box.erased_before = op;
        ++erases_seen_;
      }
      // Any other code (only while the storage is gone: a server crash on PostgreSQL) leaves
      // the erase in doubt, like one cut by a kill: its commit may have happened.
    }
  }
}

void MailModel::BeginRun() { pending_.clear(); }

void MailModel::Check(test::RecordReader& raw, test::ViolationSink& v) {
  for (int i = 0; i < kMailboxes; ++i) {
    const std::string key = MailboxKey(prefix_, i);
    const std::string at = "mailbox '" + key + "': ";
    Box& box = boxes_[key];
    auto data = raw.Data(kMail, key);
    if (!data.ok()) return v.Add(at + data.status().ToString());
    auto waiting = raw.Messages(kMail, key);
    if (!waiting.ok()) return v.Add(at + waiting.status().ToString());
    std::vector<uint64_t> applied;
    if (*data) {
      auto parsed = ParseApplied((*data)->payload);
      if (!parsed) return v.Add(at + "data is not a list of message numbers");
      applied = std::move(*parsed);
    }
    std::set<uint64_t> applied_set(applied.begin(), applied.end());
    if (applied_set.size() != applied.size()) v.Add(at + "a message was applied twice");
    std::set<uint64_t> stored = applied_set;
    for (const internal::MessageRecord& r : *waiting) {
      auto n = ParseItems(r.payload);
      if (!n) {
        v.Add(at + "a waiting message holds '" + r.payload + "'");
        continue;
      }
      const auto id = static_cast<uint64_t>(*n);
      if (applied_set.count(id)) {
        v.Add(at + "message " + std::to_string(id) + " is applied and still waiting");
      }
      stored.insert(id);
    }
    std::set<uint64_t> unknown;
    std::set_difference(stored.begin(), stored.end(), sent_.begin(), sent_.end(),
                        std::inserter(unknown, unknown.end()));
    if (!unknown.empty()) v.Add(at + "messages nobody sent: " + Join(unknown));
    // An erase in doubt (cut by the kill, or failed while the storage was gone) committed when
    // nothing sent before it is left; what was sent after it (only possible after a failure)
    // must still be there.
    if (box.erasing && (stored.empty() || *stored.begin() > *box.erasing)) {
      std::erase_if(box.expected, [&](uint64_t id) { return id < *box.erasing; });
      box.erased_before = std::max(box.erased_before, *box.erasing);
    }
    box.erasing.reset();
    std::set<uint64_t> lost;
    std::set_difference(box.expected.begin(), box.expected.end(), stored.begin(), stored.end(),
                        std::inserter(lost, lost.end()));
    if (!lost.empty()) v.Add(at + "acknowledged messages lost: " + Join(lost));
    if (!stored.empty() && *stored.begin() < box.erased_before) {
      v.Add(at + "message " + std::to_string(*stored.begin()) + " survived the erase of op " +
            std::to_string(box.erased_before));
    }
    applied_seen_ = std::max<uint64_t>(applied_seen_, applied.size());
    box.expected = std::move(stored);  // what is stored now must never be lost
  }
  ++checks_;
}

}  // namespace holdfast::crash
