// Sigma correlation documents -> CorrelationSet (contract: correlation_rule.h).
//
// Three passes:
//  1. Parse: each document alone (meta, the `correlation:` keys, their syntax
//     and what each type requires) into a Draft. A refused draft stays known
//     by id and name, so that a reference to it says so.
//  2. Resolve: `rules:` against detection rules and drafts (by id or name),
//     then `aliases` (they need the referenced rules' names) and `absent`.
//  3. Order: Kahn's algorithm over references between correlations;
//     refusals propagate to referring correlations; what is left is a cycle
//     or depends on one.
// The set is then built in that order: fingerprints, routes, silencing.
//
// Lines: a document from LoadSigma is its parsed YAML node, whose marks are
// lines and columns of the file, so every error names the exact line (and
// column, for syntax and shape errors). A document given as text (tests,
// tools) counts its lines from the document's first line.
//
// Exceptions (Refusal, YAML::Exception) are used only inside loading and end
// up as RuleErrors; LoadCorrelations never throws.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <utility>

#include "engine/rules/correlation_draft.h"
#include "engine/rules/correlation_rule.h"
#include "engine/rules/rule_metadata.h"
#include "engine/rules/sigma_internal.h"
#include "engine/util/hash.h"

namespace gsoc::correlate {
namespace {

using loader_internal::Alias;
using loader_internal::Draft;
using loader_internal::kMaxAliases;
using loader_internal::MakeError;
using loader_internal::ParseDocument;
using loader_internal::Quoted;
using loader_internal::RefuseDraft;
using loader_internal::Target;
using loader_internal::Written;
using rules::internal::LineOf;
using rules::internal::Refusal;
using rules::internal::Refuse;

// ---- resolution ----

std::string Where(const rules::SourceLocation& location) {
  return location.file + ":" + std::to_string(location.line);
}

// Correlation ids must be unique among correlations and detection rules
// (state and alerts are keyed by them); later duplicates are refused.
void RefuseDuplicateIds(std::vector<Draft>& drafts, const std::vector<rules::Rule>& detection) {
  std::unordered_map<std::string, rules::SourceLocation> seen;
  for (const rules::Rule& rule : detection) seen.emplace(rule.id, rule.location);
  for (Draft& draft : drafts) {
    const auto [it, inserted] = seen.emplace(draft.rule.id, draft.rule.location);
    if (!inserted)
      RefuseDraft(draft, 0,
                  "duplicate id " + Quoted(draft.rule.id) + " (also " + Where(it->second) + ")");
  }
}

class RuleIndex {
 public:
  RuleIndex(const std::vector<rules::Rule>& detection, const std::vector<Draft>& drafts) {
    for (uint32_t i = 0; i < detection.size(); ++i) {
      Add(detection[i].id, {RuleRef::Kind::kDetection, i});
      Add(detection[i].name, {RuleRef::Kind::kDetection, i});
    }
    for (uint32_t i = 0; i < drafts.size(); ++i) {
      Add(drafts[i].rule.id, {RuleRef::Kind::kCorrelation, i});
      Add(drafts[i].rule.name, {RuleRef::Kind::kCorrelation, i});
    }
  }

  std::vector<Target> Find(const std::string& id_or_name) const {
    const auto it = targets_.find(id_or_name);
    return it == targets_.end() ? std::vector<Target>{} : it->second;
  }

 private:
  void Add(const std::string& key, Target target) {
    if (key.empty()) return;
    std::vector<Target>& targets = targets_[key];
    if (std::find(targets.begin(), targets.end(), target) == targets.end())
      targets.push_back(target);
  }

  std::unordered_map<std::string, std::vector<Target>> targets_;
};

struct Resolution {
  const std::vector<rules::Rule>& detection;
  const std::vector<Draft>& drafts;
  const RuleIndex& index;

  const std::string& NameOf(Target target) const {
    return target.kind == RuleRef::Kind::kDetection ? detection[target.index].name
                                                    : drafts[target.index].rule.name;
  }
};

Target ResolveRef(const Written& ref, uint32_t self, const Resolution& resolution) {
  const std::vector<Target> found = resolution.index.Find(ref.text);
  if (found.empty())
    throw Refusal(
        "'rules': no detection or correlation rule has the id or name " + Quoted(ref.text),
        ref.line);
  if (found.size() > 1)
    throw Refusal("'rules': " + Quoted(ref.text) + " is ambiguous: " +
                      std::to_string(found.size()) + " rules have this id or name",
                  ref.line);
  if (found.front() == Target{RuleRef::Kind::kCorrelation, self})
    throw Refusal("'rules': " + Quoted(ref.text) + " is this correlation itself (a cycle)",
                  ref.line);
  return found.front();
}

void ResolveRefs(Draft& draft, uint32_t self, const Resolution& resolution) {
  for (const Written& ref : draft.refs) {
    const Target target = ResolveRef(ref, self, resolution);
    const auto same = std::find(draft.targets.begin(), draft.targets.end(), target);
    if (same != draft.targets.end())
      throw Refusal("'rules': " + Quoted(draft.refs[same - draft.targets.begin()].text) + " and " +
                        Quoted(ref.text) + " are the same rule",
                    ref.line);
    draft.targets.push_back(target);
    draft.rule.refs.push_back({ref.text, target.kind, target.index, resolution.NameOf(target)});
  }
}

bool Names(const RuleRef& ref, const std::string& text) {
  return text == ref.written || (!ref.name.empty() && text == ref.name);
}

const std::string* AliasField(const Alias& alias, const RuleRef& ref) {
  for (const auto& [rule_name, field] : alias.fields)
    if (rule_name.text == ref.name && !ref.name.empty()) return &field;
  for (const auto& [rule_name, field] : alias.fields)
    if (rule_name.text == ref.written) return &field;
  return nullptr;
}

void CheckAliasNames(const Draft& draft) {
  for (const Alias& alias : draft.aliases)
    for (const auto& entry : alias.fields) {
      const Written& rule_name = entry.first;
      if (std::none_of(draft.rule.refs.begin(), draft.rule.refs.end(),
                       [&](const RuleRef& ref) { return Names(ref, rule_name.text); }))
        throw Refusal("alias " + Quoted(alias.name.text) + ": " + Quoted(rule_name.text) +
                          " is not the name of one of the correlation's rules",
                      rule_name.line);
    }
}

// group_fields[g][r]: the alias mapping's field for refs[r], else group_by[g].
void ResolveGroupFields(Draft& draft) {
  CheckAliasNames(draft);
  CorrelationRule& rule = draft.rule;
  for (const std::string& group : rule.group_by) {
    const auto alias = std::find_if(draft.aliases.begin(), draft.aliases.end(),
                                    [&](const Alias& a) { return a.name.text == group; });
    std::vector<std::string>& fields = rule.group_fields.emplace_back();
    for (const RuleRef& ref : rule.refs) {
      const std::string* field = alias == draft.aliases.end() ? nullptr : AliasField(*alias, ref);
      fields.push_back(field ? *field : group);
    }
  }
}

void ResolveAbsent(Draft& draft, const Resolution& resolution) {
  if (!draft.absent) return;
  const RuleRef& last = draft.rule.refs.back();
  const std::vector<Target> found = resolution.index.Find(draft.absent->text);
  const bool names_last = Names(last, draft.absent->text) ||
                          (found.size() == 1 && found.front() == draft.targets.back());
  if (!names_last)
    throw Refusal("'absent' must name the last of 'rules' (" + Quoted(last.written) + "), not " +
                      Quoted(draft.absent->text),
                  draft.absent->line);
  draft.rule.absent_last = true;
}

void Resolve(Draft& draft, uint32_t self, const Resolution& resolution) {
  if (draft.error) return;
  try {
    ResolveRefs(draft, self, resolution);
    ResolveGroupFields(draft);
    ResolveAbsent(draft, resolution);
  } catch (const Refusal& refusal) {
    RefuseDraft(draft, refusal.line(), refusal.what());
  }
}

// ---- order ----

// The line of `draft`'s reference to draft `target`.
int RefLine(const Draft& draft, uint32_t target) {
  for (size_t r = 0; r < draft.targets.size(); ++r)
    if (draft.targets[r] == Target{RuleRef::Kind::kCorrelation, target}) return draft.refs[r].line;
  return 0;
}

void RefuseReferrer(Draft& referrer, const Draft& refused, uint32_t refused_index) {
  RefuseDraft(referrer, RefLine(referrer, refused_index),
              "refers to refused correlation " + Quoted(refused.rule.id));
}

// Drafts left after Kahn's algorithm each refer to at least one other left
// draft; following such references from any of them ends in a cycle.
class CycleRefuser {
 public:
  CycleRefuser(std::vector<Draft>& drafts, const std::vector<bool>& left)
      : drafts_(drafts), left_(left), state_(drafts.size(), kUnvisited) {}

  void Run() {
    for (uint32_t i = 0; i < drafts_.size(); ++i)
      if (left_[i] && state_[i] == kUnvisited) Walk(i);
  }

 private:
  enum State : uint8_t { kUnvisited, kOnWalk, kDone };

  uint32_t NextLeft(uint32_t i) const {
    for (const Target& target : drafts_[i].targets)
      if (target.kind == RuleRef::Kind::kCorrelation && left_[target.index]) return target.index;
    return i;  // unreachable: a left draft waits on a left draft
  }

  void Walk(uint32_t start) {
    std::vector<uint32_t> path;
    uint32_t current = start;
    while (state_[current] == kUnvisited) {
      state_[current] = kOnWalk;
      path.push_back(current);
      current = NextLeft(current);
    }
    size_t cycle_start = path.size();
    if (state_[current] == kOnWalk)
      cycle_start = std::find(path.begin(), path.end(), current) - path.begin();
    for (size_t k = cycle_start; k < path.size(); ++k) RefuseInCycle(path, cycle_start, k);
    for (size_t k = cycle_start; k-- > 0;) {
      const uint32_t next = k + 1 < path.size() ? path[k + 1] : current;
      RefuseReferrer(drafts_[path[k]], drafts_[next], next);
    }
    for (const uint32_t i : path) state_[i] = kDone;
  }

  void RefuseInCycle(const std::vector<uint32_t>& path, size_t cycle_start, size_t at) {
    const size_t length = path.size() - cycle_start;
    std::string text;
    for (size_t step = 0; step <= length; ++step) {
      if (step > 0) text += " -> ";
      text += Quoted(drafts_[path[cycle_start + (at - cycle_start + step) % length]].rule.id);
    }
    const uint32_t next = path[cycle_start + (at - cycle_start + 1) % length];
    RefuseDraft(drafts_[path[at]], RefLine(drafts_[path[at]], next),
                "'rules' form a cycle: " + text);
  }

  std::vector<Draft>& drafts_;
  const std::vector<bool>& left_;
  std::vector<State> state_;
};

// Kahn's algorithm over references between correlations, taking ready
// drafts in document order; a refusal propagates to every referrer.
class DraftOrder {
 public:
  explicit DraftOrder(std::vector<Draft>& drafts)
      : drafts_(drafts), referrers_(drafts.size()), waiting_(drafts.size(), 0) {
    for (uint32_t i = 0; i < drafts_.size(); ++i) {
      if (drafts_[i].error) continue;
      for (const Target& target : drafts_[i].targets)
        if (target.kind == RuleRef::Kind::kCorrelation) {
          referrers_[target.index].push_back(i);
          ++waiting_[i];
        }
    }
  }

  // The accepted drafts, each after every draft it refers to; the others
  // are refused (a cycle, or a reference to a refused correlation).
  std::vector<uint32_t> Run() {
    for (uint32_t i = 0; i < drafts_.size(); ++i) {
      if (drafts_[i].error)
        refused_.push_back(i);
      else if (waiting_[i] == 0)
        ready_.insert(i);
    }
    while (!refused_.empty() || !ready_.empty()) {
      if (!refused_.empty())
        PropagateRefusal();
      else
        AcceptNext();
    }
    RefuseCycles();
    return order_;
  }

 private:
  void PropagateRefusal() {
    const uint32_t refused = refused_.back();
    refused_.pop_back();
    for (const uint32_t referrer : referrers_[refused]) {
      if (drafts_[referrer].error) continue;
      RefuseReferrer(drafts_[referrer], drafts_[refused], refused);
      refused_.push_back(referrer);
    }
  }

  void AcceptNext() {
    const uint32_t next = *ready_.begin();
    ready_.erase(ready_.begin());
    order_.push_back(next);
    for (const uint32_t referrer : referrers_[next])
      if (!drafts_[referrer].error && --waiting_[referrer] == 0) ready_.insert(referrer);
  }

  void RefuseCycles() {
    std::vector<bool> left(drafts_.size(), false);
    for (uint32_t i = 0; i < drafts_.size(); ++i) left[i] = !drafts_[i].error;
    for (const uint32_t i : order_) left[i] = false;
    CycleRefuser(drafts_, left).Run();
  }

  std::vector<Draft>& drafts_;
  std::vector<std::vector<uint32_t>> referrers_;  // by referenced draft
  std::vector<size_t> waiting_;                   // references not yet accepted
  std::vector<uint32_t> refused_;                 // refusals still to propagate
  std::set<uint32_t> ready_;
  std::vector<uint32_t> order_;
};

// ---- building the set ----

void AppendText(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

// Canonical, length-prefixed text of what shapes state. The id is part of
// it so that two otherwise identical correlations never share state; a
// referenced correlation contributes its id and a hash of its fingerprint
// (a change below changes every correlation above, in bounded space).
std::string Fingerprint(const CorrelationRule& rule, const std::vector<rules::Rule>& detection,
                        const std::vector<CorrelationRule>& built) {
  std::string out = "gsoc-correlation/1|id=";
  AppendText(out, rule.id);
  out += "|type=";
  out += CorrelationTypeName(rule.type);
  out += "|refs=";
  for (const RuleRef& ref : rule.refs) {
    if (ref.kind == RuleRef::Kind::kDetection) {
      out += 'd';
      AppendText(out, detection[ref.index].id);
    } else {
      out += 'c';
      AppendText(out, built[ref.index].id);
      char hash[20];
      std::snprintf(hash, sizeof(hash), "#%016llx",
                    static_cast<unsigned long long>(Fnv1a(built[ref.index].fingerprint)));
      out += hash;
    }
    out += ',';
  }
  out += "|group_by=";
  for (const std::string& group : rule.group_by) AppendText(out, group);
  out += "|group_fields=";
  for (const std::vector<std::string>& fields : rule.group_fields) {
    for (const std::string& field : fields) AppendText(out, field);
    out += ';';
  }
  out += "|timespan_ns=" + std::to_string(rule.timespan_ns) + "|condition=";
  AppendText(out, rule.condition.ToString());
  out += "|field=";
  AppendText(out, rule.field);
  out += rule.absent_last ? "|absent=1" : "|absent=0";
  return out;
}

void BuildRoutes(CorrelationSet& set, size_t detection_count) {
  set.detection_routes.assign(detection_count, {});
  set.correlation_routes.assign(set.rules.size(), {});
  for (uint32_t r = 0; r < set.rules.size(); ++r) {
    const std::vector<RuleRef>& refs = set.rules[r].refs;
    for (uint32_t k = 0; k < refs.size(); ++k) {
      auto& routes =
          refs[k].kind == RuleRef::Kind::kDetection ? set.detection_routes : set.correlation_routes;
      routes[refs[k].index].push_back({r, k});
    }
  }
}

// A referenced rule alerts on its own only when a correlation referring to
// it says `generate: true`.
std::vector<bool> Silenced(const std::vector<std::vector<Route>>& routes,
                           const std::vector<CorrelationRule>& rules) {
  std::vector<bool> silenced(routes.size(), false);
  for (size_t i = 0; i < routes.size(); ++i)
    silenced[i] = !routes[i].empty() &&
                  std::none_of(routes[i].begin(), routes[i].end(),
                               [&](const Route& route) { return rules[route.rule].generate; });
  return silenced;
}

CorrelationSet BuildSet(std::vector<Draft>& drafts, const std::vector<uint32_t>& order,
                        const std::vector<rules::Rule>& detection) {
  std::vector<uint32_t> position(drafts.size(), 0);
  for (uint32_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  CorrelationSet set;
  for (const uint32_t i : order) {
    CorrelationRule rule = std::move(drafts[i].rule);
    for (RuleRef& ref : rule.refs)
      if (ref.kind == RuleRef::Kind::kCorrelation) ref.index = position[ref.index];
    rule.fingerprint = Fingerprint(rule, detection, set.rules);
    set.rules.push_back(std::move(rule));
  }
  BuildRoutes(set, detection.size());
  set.detection_silenced = Silenced(set.detection_routes, set.rules);
  set.correlation_silenced = Silenced(set.correlation_routes, set.rules);
  return set;
}

CorrelationLoadResult Load(const std::vector<rules::CorrelationDocument>& documents,
                           const std::vector<rules::Rule>& detection) {
  std::vector<Draft> drafts;
  drafts.reserve(documents.size());
  for (const rules::CorrelationDocument& document : documents)
    drafts.push_back(ParseDocument(document));
  RefuseDuplicateIds(drafts, detection);
  const RuleIndex index(detection, drafts);
  const Resolution resolution{detection, drafts, index};
  for (uint32_t i = 0; i < drafts.size(); ++i) Resolve(drafts[i], i, resolution);
  const std::vector<uint32_t> order = DraftOrder(drafts).Run();
  CorrelationLoadResult result;
  for (const Draft& draft : drafts)
    if (draft.error) result.refused.push_back(*draft.error);
  result.set = std::make_shared<const CorrelationSet>(BuildSet(drafts, order, detection));
  return result;
}

}  // namespace

CorrelationLoadResult LoadCorrelations(const std::vector<rules::CorrelationDocument>& documents,
                                       const std::vector<rules::Rule>& detection_rules) {
  try {
    return Load(documents, detection_rules);
  } catch (const std::exception& e) {
    CorrelationLoadResult result;
    rules::RuleError error;
    error.code = "correlation.load";
    error.message = std::string("cannot load correlation rules: ") + e.what();
    result.refused.push_back(std::move(error));
    auto set = std::make_shared<CorrelationSet>();
    set->detection_routes.assign(detection_rules.size(), {});
    set->detection_silenced.assign(detection_rules.size(), false);
    result.set = std::move(set);
    return result;
  }
}

}  // namespace gsoc::correlate
