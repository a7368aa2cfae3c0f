// Sigma condition expressions: recursive descent with bounded depth.
//   or_expr  := and_expr ('or' and_expr)*
//   and_expr := unary ('and' unary)*
//   unary    := 'not' unary | '(' or_expr ')' | quantifier | NAME
//   quantifier := ('1' | 'any' | 'all') 'of' (PATTERN | 'them')
#include <cctype>

#include "engine/rules/sigma_internal.h"
#include "engine/util/ascii.h"

namespace gsoc::rules {
namespace {

constexpr size_t kMaxConditionLength = 16384;
constexpr int kMaxConditionDepth = 64;

class SyntaxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Token {
  std::string text;
  size_t position = 0;
};

bool IsDelimiter(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '|';
}

std::vector<Token> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < text.size();) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (IsDelimiter(text[i])) {
      tokens.push_back({std::string(1, text[i]), i});
      ++i;
    } else {
      const size_t start = i;
      while (i < text.size() && !IsDelimiter(text[i])) ++i;
      tokens.push_back({text.substr(start, i - start), start});
    }
  }
  return tokens;
}

bool IsKeyword(const std::string& word) {
  const std::string lower = AsciiLower(word);
  return lower == "and" || lower == "or" || lower == "not" || lower == "of" || lower == "them";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<Selection>& selections)
      : tokens_(std::move(tokens)), selections_(selections) {}

  Condition ParseAll() {
    if (tokens_.empty()) throw SyntaxError("empty condition");
    Condition condition = ParseOr(0);
    if (pos_ < tokens_.size()) Unexpected();
    return condition;
  }

 private:
  bool PeekKeyword(const char* keyword) const {
    return pos_ < tokens_.size() && AsciiLower(tokens_[pos_].text) == keyword;
  }
  bool AcceptKeyword(const char* keyword) {
    if (!PeekKeyword(keyword)) return false;
    ++pos_;
    return true;
  }
  [[noreturn]] void Unexpected() const {
    if (pos_ >= tokens_.size()) throw SyntaxError("condition ends unexpectedly");
    const Token& token = tokens_[pos_];
    throw SyntaxError("unexpected '" + token.text + "' at position " +
                      std::to_string(token.position + 1));
  }
  void CheckDepth(int depth) const {
    if (depth > kMaxConditionDepth)
      throw SyntaxError("condition nested deeper than " + std::to_string(kMaxConditionDepth));
  }

  static Condition Combine(Condition::Kind kind, std::vector<Condition> parts) {
    if (parts.size() == 1) return std::move(parts.front());
    Condition node;
    node.kind = kind;
    for (Condition& part : parts) {
      if (part.kind == kind) {
        for (Condition& child : part.children) node.children.push_back(std::move(child));
      } else {
        node.children.push_back(std::move(part));
      }
    }
    return node;
  }

  // `depth` counts nesting by parentheses and `not`.
  Condition ParseOr(int depth) {
    std::vector<Condition> parts{ParseAnd(depth)};
    while (AcceptKeyword("or")) parts.push_back(ParseAnd(depth));
    return Combine(Condition::Kind::kOr, std::move(parts));
  }

  Condition ParseAnd(int depth) {
    std::vector<Condition> parts{ParseUnary(depth)};
    while (AcceptKeyword("and")) parts.push_back(ParseUnary(depth));
    return Combine(Condition::Kind::kAnd, std::move(parts));
  }

  Condition ParseUnary(int depth) {
    CheckDepth(depth);
    if (pos_ >= tokens_.size()) Unexpected();
    if (AcceptKeyword("not")) {
      Condition node;
      node.kind = Condition::Kind::kNot;
      node.children.push_back(ParseUnary(depth + 1));
      return node;
    }
    if (tokens_[pos_].text == "(") {
      ++pos_;
      Condition inner = ParseOr(depth + 1);
      if (pos_ >= tokens_.size() || tokens_[pos_].text != ")") {
        if (pos_ >= tokens_.size()) throw SyntaxError("missing ')'");
        Unexpected();
      }
      ++pos_;
      return inner;
    }
    if (pos_ + 1 < tokens_.size() && AsciiLower(tokens_[pos_ + 1].text) == "of")
      return ParseQuantifier();
    return ParseName();
  }

  Condition ParseQuantifier() {
    const std::string count = AsciiLower(tokens_[pos_].text);
    Condition node;
    if (count == "1" || count == "any") {
      node.kind = Condition::Kind::kOneOf;
    } else if (count == "all") {
      node.kind = Condition::Kind::kAllOf;
    } else {
      throw SyntaxError("'" + tokens_[pos_].text +
                        " of' is not supported (only '1 of', 'any of', 'all of')");
    }
    pos_ += 2;
    if (pos_ >= tokens_.size() || IsDelimiter(tokens_[pos_].text[0])) Unexpected();
    node.selections = Resolve(tokens_[pos_].text);
    ++pos_;
    return node;
  }

  std::vector<int> Resolve(const std::string& pattern) const {
    const bool them = AsciiLower(pattern) == "them";
    std::vector<int> matches;
    for (size_t i = 0; i < selections_.size(); ++i) {
      const std::string& name = selections_[i].name;
      const bool match =
          them ? (name.empty() || name[0] != '_') : internal::GlobMatch(pattern, name);
      if (match) matches.push_back(static_cast<int>(i));
    }
    if (matches.empty())
      throw SyntaxError(them ? "'them' matches no selection (names starting with _ are excluded)"
                             : "pattern '" + pattern + "' matches no selection");
    return matches;
  }

  Condition ParseName() {
    const Token& token = tokens_[pos_];
    if (IsDelimiter(token.text[0]) || IsKeyword(token.text)) Unexpected();
    for (size_t i = 0; i < selections_.size(); ++i) {
      if (selections_[i].name == token.text) {
        ++pos_;
        Condition node;
        node.selection = static_cast<int>(i);
        return node;
      }
    }
    throw SyntaxError("unknown selection '" + token.text + "'");
  }

  std::vector<Token> tokens_;
  const std::vector<Selection>& selections_;
  size_t pos_ = 0;
};

}  // namespace

bool ParseCondition(const std::string& text, const std::vector<Selection>& selections,
                    Condition* out, std::string* error) {
  try {
    if (text.size() > kMaxConditionLength)
      throw SyntaxError("condition longer than " + std::to_string(kMaxConditionLength) +
                        " characters");
    if (text.find('|') != std::string::npos)
      throw SyntaxError(
          "aggregation expressions are replaced by correlation rules; use a Sigma correlation "
          "rule");
    Parser parser(Tokenize(text), selections);
    *out = parser.ParseAll();
    return true;
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

}  // namespace gsoc::rules
