// What engines sharing a database (PostgreSQL) tell each other through notifications
// (StorageTransaction::Notify, delivered to the membership's on_message): printable text,
// "<kind>:<hex of the encoded profile key>".
//   release  a starter of another engine asks this engine's holder of the profile to hand off
//            (its meta record carries the ReleaseRequest);
//   freed    the profile this engine asked for was released (sent by the releasing commit);
//   message  a message was sent to a profile this engine holds.
// A notification is only a wake-up: every decision is taken again in a transaction, so a lost,
// late or repeated one costs time, never correctness.
#ifndef HOLDFAST_SRC_PEER_MESSAGES_H_
#define HOLDFAST_SRC_PEER_MESSAGES_H_

#include <optional>
#include <string>
#include <string_view>

namespace holdfast::internal {

enum class PeerMessageKind : char { kRelease = 'r', kFreed = 'f', kMessage = 'm' };

struct PeerMessage {
  PeerMessageKind kind;
  std::string store;
  std::string key;
};

// `profile_key` as EncodeProfileKey makes it.
std::string EncodePeerMessage(PeerMessageKind kind, std::string_view profile_key);
// nullopt for anything malformed (the text comes from the database).
std::optional<PeerMessage> DecodePeerMessage(std::string_view text);

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_PEER_MESSAGES_H_
