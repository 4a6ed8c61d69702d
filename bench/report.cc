#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace holdfast::bench {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return "null";
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", *v);
  return text;
}

std::string JsonBool(std::optional<bool> v) {
  if (!v) return "null";
  return *v ? "true" : "false";
}

std::string WithUnit(double v, const std::string& unit) {
  return FormatNumber(v) + (unit.empty() ? "" : " " + unit);
}

std::string MetCell(const Comparison& c) {
  auto met = c.Met();
  if (!met) return "";
  return *met ? "**met**" : "**missed**: " + c.MissText();
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

}  // namespace

std::string FormatNumber(double value) {
  char text[64];
  const double magnitude = std::fabs(value);
  if (magnitude >= 100 || value == 0) {
    std::snprintf(text, sizeof text, "%.0f", value);
  } else if (magnitude >= 10) {
    std::snprintf(text, sizeof text, "%.1f", value);
  } else if (magnitude >= 0.1) {
    std::snprintf(text, sizeof text, "%.2f", value);
  } else {
    std::snprintf(text, sizeof text, "%.3g", value);
  }
  return text;
}

std::optional<double> Comparison::Ratio() const {
  if (!baseline || *baseline <= 0) return std::nullopt;
  return holdfast / *baseline;
}

std::optional<bool> Comparison::Met() const {
  if (target.kind == Target::Kind::kNone) return std::nullopt;
  std::optional<double> measured =
      target.applies == Target::Applies::kRatio ? Ratio() : std::optional<double>(holdfast);
  if (!measured) return false;  // a baseline that measured nothing cannot meet a ratio target
  switch (target.kind) {
    case Target::Kind::kAtLeast:
      return *measured >= target.bound;
    case Target::Kind::kAtMost:
      return *measured <= target.bound;
    case Target::Kind::kBelow:
      return *measured < target.bound;
    case Target::Kind::kNone:
      break;
  }
  return std::nullopt;
}

std::string Comparison::TargetText() const {
  const char* op = "";
  switch (target.kind) {
    case Target::Kind::kNone:
      return "";
    case Target::Kind::kAtLeast:
      op = ">=";
      break;
    case Target::Kind::kAtMost:
      op = "<=";
      break;
    case Target::Kind::kBelow:
      op = "<";
      break;
  }
  if (target.applies == Target::Applies::kRatio) {
    return std::string("ratio ") + op + " " + FormatNumber(target.bound);
  }
  return std::string("value ") + op + " " + WithUnit(target.bound, unit);
}

std::string Comparison::MissText() const {
  if (Met().value_or(true)) return "";
  if (target.applies == Target::Applies::kRatio) {
    auto ratio = Ratio();
    if (!ratio) return "baseline measured nothing";
    const double gap = std::fabs(*ratio - target.bound);
    return "ratio " + FormatNumber(*ratio) + ", off by " + FormatNumber(gap) + " (" +
           FormatNumber(100 * gap / target.bound) + "% of the target)";
  }
  const double gap = std::fabs(holdfast - target.bound);
  return WithUnit(holdfast, unit) + ", over by " + WithUnit(gap, unit) + " (" +
         FormatNumber(100 * gap / target.bound) + "%)";
}

void Report::Note(const std::string& family, std::string text) {
  ExtrasOf(family).notes.push_back(std::move(text));
}

void Report::NotMeasured(std::string name, std::string reason) {
  not_measured_.emplace_back(std::move(name), std::move(reason));
}

void Report::Machine(std::string what, std::string value) {
  machine_.emplace_back(std::move(what), std::move(value));
}

void Report::Chart(const std::string& family, std::string path, std::string caption) {
  ExtrasOf(family).charts.emplace_back(std::move(path), std::move(caption));
}

Report::FamilyExtras& Report::ExtrasOf(const std::string& family) {
  for (auto& e : extras_) {
    if (e.family == family) return e;
  }
  extras_.push_back(FamilyExtras{family, {}, {}});
  return extras_.back();
}

std::vector<std::string> Report::Families() const {
  std::vector<std::string> families;
  auto add = [&](const std::string& f) {
    if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
  };
  for (const auto& c : comparisons_) add(c.family);
  for (const auto& e : extras_) add(e.family);
  return families;
}

bool Report::WriteJson(const std::string& path) const {
  std::ostringstream out;
  out << "[\n";
  bool first = true;
  auto separator = [&] {
    if (!first) out << ",\n";
    first = false;
  };
  for (const auto& c : comparisons_) {
    separator();
    out << "  {\"name\": " << JsonString(c.name) << ", \"family\": " << JsonString(c.family)
        << ", \"unit\": " << JsonString(c.unit) << ", \"holdfast\": " << JsonNumber(c.holdfast)
        << ", \"baseline\": " << JsonNumber(c.baseline)
        << ", \"baseline_name\": " << JsonString(c.baseline_name)
        << ", \"ratio\": " << JsonNumber(c.Ratio()) << ", \"target\": "
        << (c.target.kind == Target::Kind::kNone ? "null" : JsonString(c.TargetText()))
        << ", \"met\": " << JsonBool(c.Met()) << ", \"mode\": " << JsonString(mode_) << "}";
  }
  for (const auto& [name, reason] : not_measured_) {
    separator();
    out << "  {\"name\": " << JsonString(name)
        << ", \"family\": \"not measured\", \"unit\": \"\", \"holdfast\": null, \"baseline\": null"
        << ", \"baseline_name\": \"\", \"ratio\": null, \"target\": null, \"met\": null"
        << ", \"not_measured\": " << JsonString(reason) << ", \"mode\": " << JsonString(mode_)
        << "}";
  }
  out << "\n]\n";
  std::ofstream file(path);
  file << out.str();
  if (!file) std::fprintf(stderr, "bench: cannot write %s\n", path.c_str());
  return static_cast<bool>(file);
}

bool Report::WriteMarkdown(const std::string& path) const {
  std::ostringstream md;
  md << "# Holdfast benchmarks\n\n"
     << "Made by `make bench" << (mode_ == "quick" ? " BENCH=quick" : "") << "` on " << UtcNow()
     << ", mode **" << mode_ << "**. " << scale_note_ << "\n\n"
     << "Every number is a ratio against a baseline measured in the same run, on the same disk, "
        "interleaved where practical: absolute numbers on a shared 2-core virtual machine are "
        "noisy, ratios much less so. `docs/benchmarks.json` holds the same comparisons, one "
        "object each, with `met` computed from the numbers.\n\n";
  md << "## Machine\n\n| | |\n|---|---|\n";
  for (const auto& [what, value] : machine_) md << "| " << what << " | " << value << " |\n";

  md << "\n## Targets\n\n| comparison | Holdfast | baseline | ratio | target | result |\n"
     << "|---|---|---|---|---|---|\n";
  for (const auto& c : comparisons_) {
    if (!c.Met()) continue;
    auto ratio = c.Ratio();
    md << "| " << c.name << " | " << WithUnit(c.holdfast, c.unit) << " | "
       << (c.baseline ? WithUnit(*c.baseline, c.unit) : "") << " | "
       << (ratio ? FormatNumber(*ratio) : "") << " | " << c.TargetText() << " | " << MetCell(c)
       << " |\n";
  }
  for (const auto& family : Families()) {
    md << "\n## " << family << "\n\n";
    for (const auto& e : extras_) {
      if (e.family != family) continue;
      for (const auto& note : e.notes) md << note << "\n\n";
      for (const auto& [chart, caption] : e.charts) {
        md << "![" << caption << "](" << chart << ")\n\n";
      }
    }
    bool any = false;
    for (const auto& c : comparisons_) {
      if (c.family != family) continue;
      if (!any) {
        md << "| comparison | Holdfast | baseline | ratio | target | result |\n"
           << "|---|---|---|---|---|---|\n";
        any = true;
      }
      auto ratio = c.Ratio();
      md << "| " << c.name << " | " << WithUnit(c.holdfast, c.unit) << " | "
         << (c.baseline ? WithUnit(*c.baseline, c.unit) + " (" + c.baseline_name + ")"
                        : c.baseline_name)
         << " | " << (ratio ? FormatNumber(*ratio) : "") << " | " << c.TargetText() << " | "
         << MetCell(c) << " |\n";
    }
  }
  if (!not_measured_.empty()) {
    md << "\n## Not measured\n\n";
    for (const auto& [name, reason] : not_measured_) {
      md << "- " << name << ": not measured: " << reason << "\n";
    }
  }
  std::ofstream file(path);
  file << md.str();
  if (!file) std::fprintf(stderr, "bench: cannot write %s\n", path.c_str());
  return static_cast<bool>(file);
}

}  // namespace holdfast::bench
