// LiveSession's message delivery: reads the messages waiting for its profile and hands them to
// the game's handler, one at a time, in order, on an engine worker. The handler runs with the
// session's save lock held, so a save stores either none or all of what it did — its edits and
// its processed() marks — which is what makes the effect of a message exactly-once on saved
// data (docs/architecture.md, "Messages").
#include <thread>

#include "live_session.h"
#include "profile_reads.h"

namespace holdfast {

namespace {
// Messages read from storage per round of a delivery.
constexpr size_t kDeliveryBatch = 64;
}  // namespace

using internal::EngineCounters;
using internal::MessageRecord;

void RawSession::Impl::SetMessageHandler(MessageHandler fn) {
  {
    internal::MutexLock lock(mu_);
    if (ended_) return;  // see ClearHandlers
    on_message_ = std::move(fn);
  }
  DeliverMessages();
}

void RawSession::Impl::DeliverMessages() {
  {
    internal::MutexLock lock(mu_);
    if (fenced_ || !on_message_) return;
    if (delivering_) {
      deliver_again_ = true;
      return;
    }
    delivering_ = true;
    deliver_again_ = false;
  }
  const bool queued = engine_->workers().Submit([self = weak_from_this()] {
    if (auto session = self.lock()) session->RunDelivery();
  });
  if (!queued) {  // the engine is shutting down: the next session gets the messages
    internal::MutexLock lock(mu_);
    delivering_ = false;
  }
}

void RawSession::Impl::RunDelivery() {
  for (;;) {
    uint64_t after = 0;
    {
      internal::MutexLock lock(mu_);
      if (fenced_ || !on_message_) {
        delivering_ = false;
        return;
      }
      after = delivered_up_to_;
      deliver_again_ = false;
    }
    auto waiting = internal::ReadWaitingMessages(engine_->storage(), {store_->name, key_}, after,
                                                 kDeliveryBatch);
    if (!waiting.ok()) {
      ReportMessageFailure(0, waiting.status());
      internal::MutexLock lock(mu_);
      delivering_ = false;  // the next message or the next session tries again
      return;
    }
    uint64_t seen = after;
    for (const auto& [sequence, why] : waiting->damaged) {
      ReportMessageFailure(sequence, why);
      seen = std::max(seen, sequence);
    }
    for (const MessageRecord& message : waiting->messages) {
      if (!DeliverOne(message)) {
        internal::MutexLock lock(mu_);
        delivering_ = false;
        return;
      }
      seen = std::max(seen, message.sequence);
    }
    internal::MutexLock lock(mu_);
    delivered_up_to_ = std::max(delivered_up_to_, seen);  // damaged ones are not tried again
    if (!waiting->more && !deliver_again_) {
      delivering_ = false;
      return;
    }
  }
}

bool RawSession::Impl::DeliverOne(const MessageRecord& record) {
  internal::UniqueLock save_lock(save_mu_);
  MessageHandler handler;
  {
    internal::MutexLock lock(mu_);
    if (fenced_ || !on_message_) return false;
    if (record.sequence <= delivered_up_to_) return true;  // delivered already
    delivered_up_to_ = record.sequence;
    handler = on_message_;
  }
  // The handler is a save signal as far as re-entrance goes: Save/EndSession from it would wait
  // for the save lock it runs under, so CheckNotReentrant refuses them.
  saving_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  const Message message{record.sequence, record.payload, record.sent_unix_ms};
  const uint64_t sequence = record.sequence;
  MessageProcessed processed = [self = weak_from_this(), sequence] {
    if (auto session = self.lock()) session->MarkProcessed(sequence);
  };
  Guarded("the message handler", [&] { handler(message, processed); }, nullptr);
  saving_thread_.store(std::thread::id(), std::memory_order_relaxed);
  EngineCounters::Add(engine_->counters().messages_delivered);
  return true;
}

void RawSession::Impl::MarkProcessed(uint64_t sequence) {
  internal::MutexLock lock(mu_);
  if (fenced_) return;  // ended: the message stays for the next session
  if (std::find(processed_.begin(), processed_.end(), sequence) == processed_.end()) {
    processed_.push_back(sequence);
  }
}

void RawSession::Impl::ReportMessageFailure(uint64_t sequence, const Status& status) {
  ErrorEvent event;
  event.store = store_->name;
  event.key = key_;
  event.operation = FailedOperation::kMessage;
  event.status = sequence == 0 ? status
                               : status.WithContext("message " + std::to_string(sequence) +
                                                    " (skipped; it stays stored)");
  event.will_retry = sequence == 0;
  engine_->ReportError(event);
}

}  // namespace holdfast
