#include "protocol.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <mutex>

namespace holdfast::crash {
namespace {

std::optional<uint64_t> Number(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

char Filler(uint64_t op, size_t i) { return static_cast<char>('a' + (op * 7 + i) % 26); }

// One lock for all reporters: a process has one pipe to its parent.
std::mutex& SendMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

std::string VaultKey(int i) { return "v" + std::to_string(i); }

std::optional<int64_t> ParseItems(std::string_view payload) {
  if (payload.empty() || payload.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (char c : payload) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string Tag::Text() const {
  if (is_template()) return kTemplate;
  return key + "." + std::to_string(epoch) + "." + std::to_string(op);
}

bool Before(const Tag& a, const Tag& b) {
  if (a.epoch != b.epoch) return a.epoch < b.epoch;
  return a.op < b.op;
}

std::string MakePayload(const Tag& tag, size_t filler_bytes) {
  if (tag.is_template()) return kTemplate;
  std::string out = tag.Text() + "|" + std::to_string(filler_bytes) + "|";
  out.reserve(out.size() + filler_bytes);
  for (size_t i = 0; i < filler_bytes; ++i) out.push_back(Filler(tag.op, i));
  return out;
}

std::optional<Tag> ParseTag(std::string_view text) {
  if (text == kTemplate) return Tag{};
  size_t second = text.rfind('.');
  if (second == std::string_view::npos || second == 0) return std::nullopt;
  size_t first = text.rfind('.', second - 1);
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  auto epoch = Number(text.substr(first + 1, second - first - 1));
  auto op = Number(text.substr(second + 1));
  if (!epoch || !op || *epoch == 0) return std::nullopt;
  return Tag{std::string(text.substr(0, first)), *epoch, *op};
}

std::optional<Tag> ParsePayload(std::string_view payload) {
  if (payload == kTemplate) return Tag{};
  size_t bar = payload.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  size_t bar2 = payload.find('|', bar + 1);
  if (bar2 == std::string_view::npos) return std::nullopt;
  auto tag = ParseTag(payload.substr(0, bar));
  auto length = Number(payload.substr(bar + 1, bar2 - bar - 1));
  if (!tag || !length || payload.size() - bar2 - 1 != *length) return std::nullopt;
  for (size_t i = 0; i < *length; ++i) {
    if (payload[bar2 + 1 + i] != Filler(tag->op, i)) return std::nullopt;
  }
  return tag;
}

std::optional<Message> ParseMessage(std::string_view line) {
  Message m;
  size_t space = line.find(' ');
  m.kind = std::string(line.substr(0, space));
  if (m.kind.empty()) return std::nullopt;
  if (space == std::string_view::npos) return m;
  std::string_view rest = line.substr(space + 1);
  if (m.kind == "violation" || m.kind == "paused" || m.kind == "open-failed") {
    m.words.emplace_back(rest);
    return m;
  }
  while (!rest.empty()) {
    size_t next = rest.find(' ');
    m.words.emplace_back(rest.substr(0, next));
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return m;
}

void Reporter::Send(const std::string& line) {
  std::string out = line;
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  out.push_back('\n');
  std::lock_guard lock(SendMutex());
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

}  // namespace holdfast::crash
