// The Sigma reader reads a document once when EndsWithTheText says that
// YAML::Load cannot have dropped content after it (sigma_reader.cc). This
// holds that claim against the first pass it skips, on SigmaHQ corpus rules
// mutated at random (characters inserted and deleted, lines indented, a
// stray token at the start of a line): wherever a mutant loads and is read
// once, the first pass finds nothing after the document either. It found
// the directive case (`%` at column 0 ends a document) the first version of
// the claim missed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/rules/sigma_internal.h"

namespace gsoc::rules::internal {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> CorpusRules(size_t limit) {
  std::vector<std::string> texts;
  const fs::path root = fs::path(GSOC_CORPUS_DIR) / "sigmahq" / "rules";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".yml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    texts.push_back(text.str());
    if (texts.size() == limit) break;
  }
  return texts;
}

// One random edit; `alphabet` has every character that means something to
// YAML's scanner at the start of a line or inside one.
void Mutate(std::string& text, std::mt19937& rng) {
  static const std::string alphabet = " \n\t-:,[]{}#&*!|>'\"%?@`aZ0_.\\\r";
  const auto pick = [&] { return alphabet[rng() % alphabet.size()]; };
  const size_t pos = rng() % (text.size() + 1);
  const size_t line_end = text.find('\n', pos);
  switch (rng() % 5) {
    case 0:
      text.insert(pos, 1, pick());
      break;
    case 1:
      if (pos < text.size()) text.erase(pos, 1 + rng() % 3);
      break;
    case 2: {  // indent a line
      const size_t start = text.rfind('\n', pos);
      text.insert(start == std::string::npos ? 0 : start + 1, std::string(1 + rng() % 3, ' '));
      break;
    }
    case 3:  // a new line of one token
      if (line_end != std::string::npos)
        text.insert(line_end + 1, std::string(1 + rng() % 3, pick()) + (rng() % 2 ? " x\n" : "\n"));
      break;
    default:  // a character at the start of a line
      if (line_end != std::string::npos) text.insert(line_end + 1, 1, pick());
  }
}

// SplitDocuments cuts a file at `---` and `...` lines, so a document's text
// never holds one after its first line.
bool HasMarkerLine(const std::string& text) {
  return text.find("\n---") != std::string::npos || text.find("\n...") != std::string::npos;
}

TEST(OnePassReading, AgreesWithTheFirstPassOnMutatedCorpusRules) {
  const std::vector<std::string> rules = CorpusRules(300);
  ASSERT_EQ(rules.size(), 300u);
  std::mt19937 rng(20261205);
  size_t loaded = 0, once = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = rules[rng() % rules.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) Mutate(text, rng);
    if (HasMarkerLine(text)) continue;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception&) {
      continue;  // a syntax error either way: the first pass would report it first
    }
    ++loaded;
    if (!EndsWithTheText(text, root)) continue;
    ++once;
    EXPECT_NO_THROW(RefuseContentAfterTheDocument(text)) << "read once, but:\n" << text;
  }
  // Most mutants still load, and most of those are read once.
  EXPECT_GT(loaded, 4000u);
  EXPECT_GT(once, loaded / 2);
  std::printf("%zu mutants loaded, %zu of them read once\n", loaded, once);
}

}  // namespace
}  // namespace gsoc::rules::internal
