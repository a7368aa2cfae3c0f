// Sigma rules shared by the reload tests and the end-to-end hostile-rule
// tests (tests/e2e/hostile_rules_test.cc).
#pragma once

namespace gsoc::testing {

// An ordinary rule: sshd "Failed password", level low.
inline constexpr const char* kFailedPasswordRule = R"(title: Failed password
id: 00000000-0000-0000-0000-000000000001
logsource: {product: linux, service: sshd}
detection:
  selection:
    message|contains: 'Failed password'
  condition: selection
level: low
)";

// The regex of issue 11, finding 15, on line 6: minimum width 0 (the `^$`
// branch), so PCRE2 runs it on every event, and "zz" + word characters + a
// non-word end makes `(\w*\s?)*` backtrack exponentially.
inline constexpr const char* kRedosRuleId = "00000000-0000-0000-0000-00000000bad1";
inline constexpr const char* kRedosRule = R"(title: Crafted regex
id: 00000000-0000-0000-0000-00000000bad1
logsource: {product: linux}
detection:
  selection:
    message|re: 'zz(\w*\s?)*$|^$'
  condition: selection
level: low
)";

// A regex PCRE2 refuses, on line 6.
inline constexpr const char* kBrokenRule = R"(title: Broken regex
id: 00000000-0000-0000-0000-00000000bad2
logsource: {product: linux}
detection:
  selection:
    message|re: '(unclosed'
  condition: selection
level: low
)";

}  // namespace gsoc::testing
