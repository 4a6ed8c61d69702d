// Guards of the engine's structure (docs/architecture.md): the internal headers include one
// another without a cycle, and the public headers name no implementation type.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace holdfast::test {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The quoted includes of each header in `dir` that name another header of `dir`.
std::map<std::string, std::vector<std::string>> IncludeGraph(const fs::path& dir) {
  std::map<std::string, std::vector<std::string>> graph;
  const std::regex include(R"re(#include "([^"/]+\.h)")re");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".h") continue;
    auto& edges = graph[entry.path().filename().string()];
    const std::string text = ReadAll(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
      if (fs::exists(dir / (*it)[1].str())) edges.push_back((*it)[1].str());
    }
  }
  return graph;
}

// A cycle through `node`, as "a -> b -> a", or "" when there is none reachable from it.
std::string FindCycle(const std::map<std::string, std::vector<std::string>>& graph,
                      const std::string& node, std::vector<std::string>& path,
                      std::set<std::string>& done) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != node) continue;
    std::string cycle;
    for (size_t j = i; j < path.size(); ++j) cycle += path[j] + " -> ";
    return cycle + node;
  }
  if (done.count(node)) return "";
  path.push_back(node);
  auto it = graph.find(node);
  if (it != graph.end()) {
    for (const auto& next : it->second) {
      if (std::string cycle = FindCycle(graph, next, path, done); !cycle.empty()) return cycle;
    }
  }
  path.pop_back();
  done.insert(node);
  return "";
}

TEST(EngineLayoutTest, InternalHeadersIncludeEachOtherWithoutACycle) {
  const auto graph = IncludeGraph(fs::path(HOLDFAST_ENGINE_DIR) / "src");
  ASSERT_GT(graph.size(), 20u);  // the directory was found and read
  std::set<std::string> done;
  for (const auto& [header, edges] : graph) {
    std::vector<std::string> path;
    EXPECT_EQ(FindCycle(graph, header, path, done), "") << "include cycle in engine/src";
  }
}

TEST(EngineLayoutTest, TheCycleFinderFindsACycle) {
  const std::map<std::string, std::vector<std::string>> graph = {
      {"a.h", {"b.h"}}, {"b.h", {"c.h"}}, {"c.h", {"a.h"}}};
  std::set<std::string> done;
  std::vector<std::string> path;
  EXPECT_EQ(FindCycle(graph, "a.h", path, done), "a.h -> b.h -> c.h -> a.h");
}

TEST(EngineLayoutTest, PublicHeadersNameNoImplementationType) {
  const fs::path dir = fs::path(HOLDFAST_ENGINE_DIR) / "include" / "holdfast";
  const std::regex internal(R"(\binternal::|namespace internal\b|#include "[^h])");
  int headers = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++headers;
    const std::string text = ReadAll(entry.path());
    std::smatch found;
    EXPECT_FALSE(std::regex_search(text, found, internal))
        << entry.path().filename() << " names '" << found.str() << "'";
  }
  EXPECT_GT(headers, 10);
}

}  // namespace
}  // namespace holdfast::test
