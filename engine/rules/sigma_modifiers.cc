// One detection key `field|mod|mod...` with its value(s) -> FieldPredicate.
// Modifiers and their valid combinations follow the Sigma modifiers appendix;
// anything gsoc cannot honour exactly is refused with the reason.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "engine/rules/sigma_internal.h"

namespace gsoc::rules::internal {
namespace {

enum class Transform { kBase64, kBase64Offset, kUtf16Le, kUtf16Be, kUtf16, kWindash };

struct Modifiers {
  std::optional<MatchOp> op;
  std::string op_name;
  bool all = false;
  bool cased = false;
  bool re_caseless = false, re_multiline = false, re_dotall = false;
  std::string re_flag_name;  // first of i/m/s seen, for error messages
  std::vector<Transform> transforms;
  std::vector<std::string> transform_names;
  bool expand_contains = false;  // |contains|expand: substring lookup in the list
  bool neq = false;              // |neq: the predicate negated
  TimePart time_part = TimePart::kNone;
};

constexpr size_t kMaxWindashVariants = 3125;  // five `-` at word starts
constexpr size_t kMaxWindashBytes = 4 << 20;

const std::map<std::string, MatchOp, std::less<>>& OpModifiers() {
  static const std::map<std::string, MatchOp, std::less<>> ops = {
      {"contains", MatchOp::kContains},
      {"startswith", MatchOp::kStartsWith},
      {"endswith", MatchOp::kEndsWith},
      {"re", MatchOp::kRegex},
      {"cidr", MatchOp::kCidr},
      {"exists", MatchOp::kExists},
      {"lt", MatchOp::kLt},
      {"lte", MatchOp::kLte},
      {"gt", MatchOp::kGt},
      {"gte", MatchOp::kGte},
      {"expand", MatchOp::kIndicator},
      {"fieldref", MatchOp::kFieldRef},
      {"minute", MatchOp::kTimePart},
      {"hour", MatchOp::kTimePart},
      {"day", MatchOp::kTimePart},
      {"week", MatchOp::kTimePart},
      {"month", MatchOp::kTimePart},
      {"year", MatchOp::kTimePart}};
  return ops;
}

// A time modifier's part and the values it may compare with.
struct TimePartSpec {
  TimePart part;
  int min, max;
};
const std::map<std::string, TimePartSpec, std::less<>>& TimePartModifiers() {
  static const std::map<std::string, TimePartSpec, std::less<>> parts = {
      {"minute", {TimePart::kMinute, 0, 59}}, {"hour", {TimePart::kHour, 0, 23}},
      {"day", {TimePart::kDay, 1, 31}},       {"week", {TimePart::kWeek, 1, 53}},
      {"month", {TimePart::kMonth, 1, 12}},   {"year", {TimePart::kYear, 0, 9999}}};
  return parts;
}

const std::map<std::string, Transform, std::less<>>& TransformModifiers() {
  static const std::map<std::string, Transform, std::less<>> transforms = {
      {"base64", Transform::kBase64},   {"base64offset", Transform::kBase64Offset},
      {"wide", Transform::kUtf16Le},    {"utf16le", Transform::kUtf16Le},
      {"utf16be", Transform::kUtf16Be}, {"utf16", Transform::kUtf16},
      {"windash", Transform::kWindash}};
  return transforms;
}

bool IsBase64(Transform t) { return t == Transform::kBase64 || t == Transform::kBase64Offset; }
bool IsStringOp(std::optional<MatchOp> op) {
  return !op || *op == MatchOp::kContains || *op == MatchOp::kStartsWith ||
         *op == MatchOp::kEndsWith;
}
bool IsNumericOp(MatchOp op) {
  return op == MatchOp::kLt || op == MatchOp::kLte || op == MatchOp::kGt || op == MatchOp::kGte ||
         op == MatchOp::kTimePart;
}

void SetOp(Modifiers& m, MatchOp op, const std::string& name, const YAML::Node& at) {
  // `contains` with `expand`: a listed value occurring inside the field
  // (e.g. a bad domain inside a URL) rather than equal to it.
  const bool contains_then_expand = m.op == MatchOp::kContains && op == MatchOp::kIndicator;
  const bool expand_then_contains = m.op == MatchOp::kIndicator && op == MatchOp::kContains;
  if (contains_then_expand || expand_then_contains) {
    m.op = MatchOp::kIndicator;
    m.op_name = "expand";
    m.expand_contains = true;
    return;
  }
  if (m.op) Refuse(at, "modifiers '" + m.op_name + "' and '" + name + "' cannot be combined");
  m.op = op;
  m.op_name = name;
  if (op == MatchOp::kTimePart) m.time_part = TimePartModifiers().find(name)->second.part;
}

void AddTransform(Modifiers& m, Transform t, const std::string& name, const YAML::Node& at) {
  if (!m.transforms.empty() && IsBase64(m.transforms.back()))
    Refuse(at, "modifier '" + name + "' must come before '" + m.transform_names.back() + "'");
  m.transforms.push_back(t);
  m.transform_names.push_back(name);
}

bool SetRegexFlag(Modifiers& m, const std::string& name) {
  bool* flag = nullptr;
  if (name == "i" || name == "ignorecase") flag = &m.re_caseless;
  if (name == "m" || name == "multiline") flag = &m.re_multiline;
  if (name == "s" || name == "dotall") flag = &m.re_dotall;
  if (!flag) return false;
  *flag = true;
  if (m.re_flag_name.empty()) m.re_flag_name = name;
  return true;
}

void AddModifier(Modifiers& m, const std::string& name, const YAML::Node& at) {
  if (auto op = OpModifiers().find(name); op != OpModifiers().end())
    return SetOp(m, op->second, name, at);
  if (auto t = TransformModifiers().find(name); t != TransformModifiers().end())
    return AddTransform(m, t->second, name, at);
  if (name == "all") return void(m.all = true);
  if (name == "neq") return void(m.neq = true);
  if (name == "cased") return void(m.cased = true);
  if (SetRegexFlag(m, name)) return;
  if (name.empty()) Refuse(at, "empty modifier (two '|' in a row)");
  Refuse(at, "unknown modifier '" + name + "'");
}

void CheckCombination(Modifiers& m, const YAML::Node& at) {
  const std::string op = m.op_name;
  const bool regex = m.op == MatchOp::kRegex;
  if (!m.re_flag_name.empty() && !regex)
    Refuse(at, "modifier '" + m.re_flag_name + "' applies only to 're'");
  if (!IsStringOp(m.op) && !m.transforms.empty())
    Refuse(at, "modifier '" + m.transform_names.front() + "' cannot be combined with '" + op + "'");
  if (!IsStringOp(m.op) && m.cased)
    Refuse(at, "modifier 'cased' cannot be combined with '" + op + "'" +
                   (regex ? " (regular expressions are case-sensitive unless |i)" : ""));
  if (m.all && m.op &&
      (*m.op == MatchOp::kExists || IsNumericOp(*m.op) || *m.op == MatchOp::kIndicator))
    Refuse(at, "modifier 'all' cannot be combined with '" + op + "'");
  if (m.neq && m.all) Refuse(at, "modifier 'neq' cannot be combined with 'all'");
  if (m.neq && m.op &&
      (*m.op == MatchOp::kExists || *m.op == MatchOp::kLt || *m.op == MatchOp::kLte ||
       *m.op == MatchOp::kGt || *m.op == MatchOp::kGte))
    Refuse(at,
           "modifier 'neq' cannot be combined with '" + op + "'" +
               (*m.op == MatchOp::kExists ? " (use exists: false)" : " (use the opposite bound)"));
  for (size_t i = 0; i + 1 < m.transforms.size(); ++i)
    for (size_t j = i + 1; j < m.transforms.size(); ++j)
      if (m.transform_names[i] == m.transform_names[j] ||
          (IsBase64(m.transforms[i]) && IsBase64(m.transforms[j])))
        Refuse(at, "modifiers '" + m.transform_names[i] + "' and '" + m.transform_names[j] +
                       "' cannot be combined");
  const bool offset = !m.transforms.empty() && m.transforms.back() == Transform::kBase64Offset;
  if (offset && !m.op) m.op = MatchOp::kContains;  // base64offset is a substring search
}

// Splits `field|mod|mod` into the field and checked modifiers.
std::string ParseKey(const std::string& key, Modifiers& m, const YAML::Node& at) {
  const size_t bar = key.find('|');
  if (bar == std::string::npos) return key;
  std::string rest = key.substr(bar + 1);
  for (size_t start = 0;;) {
    const size_t next = rest.find('|', start);
    AddModifier(m, rest.substr(start, next - start), at);
    if (next == std::string::npos) break;
    start = next + 1;
  }
  CheckCombination(m, at);
  return key.substr(0, bar);
}

void TakeBudget(const ValueContext& context, size_t count, size_t bytes, const YAML::Node& at) {
  ValueBudget& budget = *context.budget;
  if (budget.values < count)
    Refuse(at, "file expands to more than " + std::to_string(kMaxValuesPerFile) + " values");
  if (budget.bytes < bytes)
    Refuse(at, "file expands to more than " + std::to_string(kMaxValueBytesPerFile) +
                   " bytes of values");
  budget.values -= count;
  budget.bytes -= bytes;
}

std::string LiteralForBase64(const std::string& value, const std::string& modifier,
                             const YAML::Node& at) {
  std::string bytes;
  for (const ValuePiece& piece : SplitSigmaValue(value)) {
    if (piece.kind != ValuePiece::Kind::kLiteral)
      Refuse(at, "modifier '" + modifier + "' cannot encode wildcards (escape * and ? with \\)");
    bytes += piece.literal;
  }
  return bytes;
}

std::string ToUtf16(const std::string& value, Transform t, const std::string& modifier,
                    const YAML::Node& at) {
  const Utf16Kind kind =
      t == Transform::kUtf16Be ? Utf16Kind::kBigEndian : Utf16Kind::kLittleEndian;
  std::vector<ValuePiece> pieces = SplitSigmaValue(value);
  for (ValuePiece& piece : pieces) {
    if (piece.kind != ValuePiece::Kind::kLiteral) continue;
    std::optional<std::string> encoded = EncodeUtf16(piece.literal, kind);
    if (!encoded) Refuse(at, "modifier '" + modifier + "' needs a valid UTF-8 value");
    piece.literal = std::move(*encoded);
  }
  if (t == Transform::kUtf16)
    pieces.insert(pieces.begin(), {ValuePiece::Kind::kLiteral, "\xFF\xFE"});
  return JoinSigmaValue(pieces);
}

std::vector<std::string> ApplyTransform(const std::string& value, Transform t,
                                        const std::string& name, const YAML::Node& at) {
  switch (t) {
    case Transform::kBase64:
      return {EscapeSigmaLiteral(Base64Encode(LiteralForBase64(value, name, at)))};
    case Transform::kBase64Offset: {
      std::vector<std::string> variants = Base64OffsetVariants(LiteralForBase64(value, name, at));
      for (std::string& variant : variants) {
        if (variant.empty()) Refuse(at, "value '" + value + "' is too short for 'base64offset'");
        variant = EscapeSigmaLiteral(variant);
      }
      return variants;
    }
    case Transform::kWindash: {
      const size_t fitting = kMaxWindashBytes / (value.size() * 2 + 1);
      auto variants = ExpandWindash(value, std::min(kMaxWindashVariants, fitting));
      if (!variants) Refuse(at, "modifier 'windash' expands '" + value + "' to too many variants");
      return std::move(*variants);
    }
    case Transform::kUtf16Le:
    case Transform::kUtf16Be:
    case Transform::kUtf16:
      return {ToUtf16(value, t, name, at)};
  }
  return {value};
}

std::vector<std::string> ApplyTransforms(const std::string& value, const Modifiers& m,
                                         const YAML::Node& at) {
  std::vector<std::string> values{value};
  for (size_t i = 0; i < m.transforms.size(); ++i) {
    std::vector<std::string> next;
    for (const std::string& v : values)
      for (std::string& out : ApplyTransform(v, m.transforms[i], m.transform_names[i], at))
        next.push_back(std::move(out));
    if (next.size() > kMaxValuesPerFile) Refuse(at, "value expands to too many variants");
    values = std::move(next);
  }
  return values;
}

double ParseNumber(const std::string& text, const std::string& op, const YAML::Node& at) {
  char* end = nullptr;
  const double number = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(number))
    Refuse(at, "modifier '" + op + "' needs a number, got '" + text + "'");
  return number;
}

// A time modifier's value: an integer in the part's range.
double ParseTimePart(const std::string& text, const std::string& modifier, const YAML::Node& at) {
  const TimePartSpec& spec = TimePartModifiers().find(modifier)->second;
  const double number = ParseNumber(text, modifier, at);
  if (number != std::floor(number) || number < spec.min || number > spec.max)
    Refuse(at, "modifier '" + modifier + "' needs an integer from " + std::to_string(spec.min) +
                   " to " + std::to_string(spec.max) + ", got '" + text + "'");
  return number;
}

bool ParseExists(const std::string& text, const YAML::Node& at) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  Refuse(at, "modifier 'exists' needs true or false, got '" + text + "'");
}

std::string IndicatorName(const std::string& text, const ValueContext& context,
                          const YAML::Node& at) {
  const bool placeholder = text.size() > 2 && text.front() == '%' && text.back() == '%' &&
                           text.find('%', 1) == text.size() - 1;
  if (!placeholder)
    Refuse(at, "modifier 'expand' needs a value that is one %placeholder%, got '" + text + "'");
  const std::string name = text.substr(1, text.size() - 2);
  for (const std::string& list : context.options->indicator_lists)
    if (list == name) return name;
  Refuse(at, "placeholder %" + name + "% is bound to no indicator list");
}

ValueMatcher SpecialValue(const std::string& text, const Modifiers& m, const ValueContext& context,
                          const YAML::Node& at) {
  ValueMatcher value;
  value.op = *m.op;
  value.text = text;
  switch (*m.op) {
    case MatchOp::kRegex:
      value.regex_caseless = m.re_caseless;
      value.regex_multiline = m.re_multiline;
      value.regex_dotall = m.re_dotall;
      break;
    case MatchOp::kCidr:
      value.cidr = Cidr::Parse(text);
      if (!value.cidr) Refuse(at, "invalid CIDR '" + text + "'");
      break;
    case MatchOp::kExists:
      value.exists = ParseExists(text, at);
      break;
    case MatchOp::kFieldRef:
      if (text.empty()) Refuse(at, "fieldref needs the name of the field to compare with");
      break;
    case MatchOp::kIndicator:
      value.indicator_list = IndicatorName(text, context, at);
      value.text = m.expand_contains ? "contains" : "";
      break;
    case MatchOp::kTimePart:
      value.number = ParseTimePart(text, m.op_name, at);
      value.time_part = m.time_part;
      break;
    default:
      value.number = ParseNumber(text, m.op_name, at);
      break;
  }
  return value;
}

// The matchers of one YAML value (several when a transformation expands it).
std::vector<ValueMatcher> ValuesOf(const std::string& field, const YAML::Node& node,
                                   const Modifiers& m, const ValueContext& context) {
  if (node.IsNull()) {
    if (m.op || !m.transforms.empty() || m.cased || m.neq || field.empty())
      Refuse(node, "null matches an absent field and takes no modifiers nor keywords");
    TakeBudget(context, 1, 0, node);
    ValueMatcher null_value;
    null_value.op = MatchOp::kNull;
    return {null_value};
  }
  if (!node.IsScalar())
    Refuse(node, "a value must be a scalar (nested lists and maps are not values)");
  const std::string& text = node.Scalar();
  if (!IsStringOp(m.op)) {
    if (field.empty() && m.op == MatchOp::kFieldRef)
      Refuse(node, "fieldref compares two fields: a keyword has no field");
    TakeBudget(context, 1, text.size(), node);
    return {SpecialValue(text, m, context, node)};
  }
  const MatchOp op = m.op ? *m.op : (field.empty() ? MatchOp::kContains : MatchOp::kEquals);
  std::vector<std::string> variants = ApplyTransforms(text, m, node);
  size_t bytes = 0;
  for (const std::string& variant : variants) bytes += variant.size();
  TakeBudget(context, variants.size(), bytes, node);
  std::vector<ValueMatcher> values;
  for (std::string& variant : variants) {
    ValueMatcher value;
    value.op = op;
    value.text = std::move(variant);
    value.cased = m.cased;
    values.push_back(std::move(value));
  }
  return values;
}

}  // namespace

std::vector<FieldPredicate> BuildPredicates(const std::string& key, const YAML::Node& values,
                                            const ValueContext& context) {
  Modifiers modifiers;
  const std::string field = ParseKey(key, modifiers, values);
  if (values.IsMap()) Refuse(values, "the value of '" + key + "' must be a scalar or a list");
  if (modifiers.neq && field.empty())
    Refuse(values, "modifier 'neq' needs a field (keywords have none)");
  if (values.IsSequence() && values.size() == 0)
    Refuse(values, "'" + key + "' has an empty list of values");
  std::vector<std::vector<ValueMatcher>> per_value;
  if (values.IsSequence()) {
    for (const YAML::Node& value : values)
      per_value.push_back(ValuesOf(field, value, modifiers, context));
  } else {
    per_value.push_back(ValuesOf(field, values, modifiers, context));
  }
  bool expanded = false;
  for (const auto& matchers : per_value) expanded = expanded || matchers.size() > 1;
  // |all over expanded values: every value must match one of its variants,
  // i.e. one predicate per value, ANDed by the alternative.
  if (modifiers.all && expanded) {
    std::vector<FieldPredicate> predicates;
    for (auto& matchers : per_value) predicates.push_back({field, std::move(matchers), false});
    return predicates;
  }
  FieldPredicate predicate{field, {}, modifiers.all, modifiers.neq};
  for (auto& matchers : per_value)
    for (ValueMatcher& matcher : matchers) predicate.values.push_back(std::move(matcher));
  return {std::move(predicate)};
}

}  // namespace gsoc::rules::internal
