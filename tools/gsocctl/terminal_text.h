// Text from alerts and events (attacker-controlled log lines) made safe to
// print on an analyst's terminal: no byte it prints can move the cursor,
// retitle the window, clear the screen, ring the bell, reorder text or end a
// line early.
//
//   Text mode: C0 controls (NUL, BEL, ESC, CR, LF, TAB...) and DEL as \xNN;
//   C1 controls (U+0080..U+009F) and Unicode bidi/format controls (U+200E,
//   U+200F, U+202A..U+202E, U+2066..U+2069, U+061C, U+FEFF) as \uXXXX; bytes
//   that are not UTF-8 as \xNN. Everything else is kept (UTF-8 text, '\').
//   Json mode: the same characters as JSON escapes (\u00XX, \uXXXX), TAB, CR
//   and LF (whitespace between tokens; never raw inside a valid string) as a
//   space, and invalid bytes as \ufffd: valid JSON stays the same document.
#pragma once

#include <string>
#include <string_view>

namespace gsoc::ctl {

std::string TerminalSafe(std::string_view text);
std::string TerminalSafeJson(std::string_view json);

}  // namespace gsoc::ctl
