// The harness's results: one Comparison per measured pair (Holdfast against a baseline measured
// in the same run, or against an absolute bound), grouped into families, and the two files made
// from them: docs/benchmarks.json (one object per comparison) and docs/benchmarks.md (tables).
//
// A comparison's `met` is computed here from the numbers and its Target; nothing is hard-coded.
// Not thread-safe: the cases fill one Report from the main thread.
#ifndef HOLDFAST_BENCH_REPORT_H_
#define HOLDFAST_BENCH_REPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace holdfast::bench {

// A bound on either the ratio holdfast / baseline or on the Holdfast value itself.
struct Target {
  enum class Kind { kNone, kAtLeast, kAtMost, kBelow };
  enum class Applies { kRatio, kValue };
  Kind kind = Kind::kNone;
  Applies applies = Applies::kRatio;
  double bound = 0;

  static Target None() { return {}; }
  static Target RatioAtLeast(double b) { return {Kind::kAtLeast, Applies::kRatio, b}; }
  static Target RatioAtMost(double b) { return {Kind::kAtMost, Applies::kRatio, b}; }
  static Target RatioBelow(double b) { return {Kind::kBelow, Applies::kRatio, b}; }
  static Target ValueAtMost(double b) { return {Kind::kAtMost, Applies::kValue, b}; }
  static Target ValueBelow(double b) { return {Kind::kBelow, Applies::kValue, b}; }
};

struct Comparison {
  std::string family;  // the section it belongs to, e.g. "Save throughput"
  std::string name;    // unique, e.g. "synced saves, 16 threads, 1 KiB vs raw RocksDB"
  std::string unit;    // of holdfast and baseline: "saves/s", "us", "bytes", "s", ...
  double holdfast = 0;
  std::optional<double> baseline;
  std::string baseline_name;  // what the baseline is, e.g. "SQLite WAL, synchronous=FULL"
  Target target;

  std::optional<double> Ratio() const;
  // nullopt when there is no target; otherwise whether the numbers meet it.
  std::optional<bool> Met() const;
  // "ratio >= 0.9", "value < 1 s", "" for none.
  std::string TargetText() const;
  // For a missed target: how far off, e.g. "ratio 0.71, 0.19 short of 0.9".
  std::string MissText() const;
};

class Report {
 public:
  Report(std::string mode, std::string scale_note)
      : mode_(std::move(mode)), scale_note_(std::move(scale_note)) {}

  void Add(Comparison comparison) { comparisons_.push_back(std::move(comparison)); }
  // A paragraph printed under the family's heading (what was measured, how, and why it is fair).
  void Note(const std::string& family, std::string text);
  // A measurement that could not be made, with the reason (listed in both files).
  void NotMeasured(std::string name, std::string reason);
  // A line of the machine table ("CPU", "Intel ...").
  void Machine(std::string what, std::string value);
  // A picture shown under a family's notes (path relative to the markdown file).
  void Chart(const std::string& family, std::string path, std::string caption);

  const std::vector<Comparison>& comparisons() const { return comparisons_; }

  // Write the files; false (with a message on stderr) when one cannot be written.
  bool WriteJson(const std::string& path) const;
  bool WriteMarkdown(const std::string& path) const;

 private:
  struct FamilyExtras {
    std::string family;
    std::vector<std::string> notes;
    std::vector<std::pair<std::string, std::string>> charts;  // path, caption
  };
  FamilyExtras& ExtrasOf(const std::string& family);
  std::vector<std::string> Families() const;

  std::string mode_;
  std::string scale_note_;
  std::vector<Comparison> comparisons_;
  std::vector<FamilyExtras> extras_;
  std::vector<std::pair<std::string, std::string>> not_measured_;
  std::vector<std::pair<std::string, std::string>> machine_;
};

// "1234", "12.3", "0.123": enough digits for a table, never scientific notation.
std::string FormatNumber(double value);

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_REPORT_H_
