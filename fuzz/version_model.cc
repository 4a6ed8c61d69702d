#include "version_model.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace holdfast::fuzz {
namespace {

// The calendar bucket (hour or day since the Unix epoch) a time falls in.
int64_t Bucket(int64_t unix_ms, std::chrono::milliseconds unit) {
  const int64_t n = unit.count();
  return unix_ms >= 0 ? unix_ms / n : -((-unix_ms + n - 1) / n);
}

}  // namespace

uint64_t HistoryModel::Append(VersionModel next) {
  next.version = ++last_version_;
  const int64_t now = next.written_unix_ms;
  kept_.push_back(std::move(next));
  Prune(now);
  return last_version_;
}

// Stated as the documentation states it: a version beyond the newest `keep_newest` survives
// while it is the newest version of its hour (within `hourly_for`) or of its day (within
// `daily_for`). Versions are appended in time order, so "newest" is also "highest number".
void HistoryModel::Prune(int64_t now_unix_ms) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  const milliseconds hour = hours(1), day = hours(24);
  const int64_t hourly_ms = milliseconds(retention_.hourly_for).count();
  const int64_t daily_ms = milliseconds(retention_.daily_for).count();
  const size_t keep_newest = std::max<size_t>(1, retention_.keep_newest);
  // The newest version number of each hour and each day among the versions held now.
  std::map<int64_t, uint64_t> newest_of_hour, newest_of_day;
  for (const VersionModel& v : kept_) {
    newest_of_hour[Bucket(v.written_unix_ms, hour)] = v.version;
    newest_of_day[Bucket(v.written_unix_ms, day)] = v.version;
  }
  std::vector<VersionModel> survivors;
  for (size_t i = 0; i < kept_.size(); ++i) {
    const VersionModel& v = kept_[i];
    const size_t rank = kept_.size() - 1 - i;  // 0 = newest
    const int64_t age = now_unix_ms - v.written_unix_ms;
    bool keep = rank < keep_newest;
    if (!keep && age <= hourly_ms) {
      keep = newest_of_hour[Bucket(v.written_unix_ms, hour)] == v.version;
    } else if (!keep && age <= daily_ms) {
      keep = newest_of_day[Bucket(v.written_unix_ms, day)] == v.version;
    }
    if (keep) survivors.push_back(v);
  }
  kept_ = std::move(survivors);
}

const VersionModel* HistoryModel::Find(uint64_t version) const {
  for (const VersionModel& v : kept_) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

const VersionModel* HistoryModel::NewestAtOrBefore(int64_t unix_ms) const {
  for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) {
    if (it->written_unix_ms <= unix_ms) return &*it;
  }
  return nullptr;
}

std::vector<const VersionModel*> HistoryModel::Select(const VersionQuery& query) const {
  std::vector<const VersionModel*> out;
  for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) {
    if (query.limit != 0 && out.size() == query.limit) break;
    if (query.before_version && it->version >= *query.before_version) continue;
    if (query.from_unix_ms && it->written_unix_ms < *query.from_unix_ms) continue;
    if (query.to_unix_ms && it->written_unix_ms > *query.to_unix_ms) continue;
    out.push_back(&*it);
  }
  return out;
}

}  // namespace holdfast::fuzz
