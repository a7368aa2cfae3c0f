// Unescaping JSON strings dense with escapes, 64 bytes at a time.
//
// Windows events carry strings with an escape every few bytes: paths
// (`C:\\Windows\\System32\\...`) and NXLog's rendered `Message`
// (`\r\n\tAccount Name:\t\t...`). simdjson's unescaper copies a block and
// handles one escape per pass, so such a string costs a block copy per
// escape. Here a whole 64-byte block is done at once: which bytes are
// escaped is computed from the block's backslashes (runs of backslashes
// included, carried across blocks), the escaped letters are translated by
// one table lookup, and the escaping backslashes are squeezed out with
// AVX-512 VBMI2's byte compress.
//
// Only the one-byte escapes (\" \\ \/ \b \f \n \r \t) are done here. A
// string with a \u escape or an invalid escape, or a CPU without VBMI2,
// gets nullptr, and the caller unescapes it with simdjson as before, which
// also reports its errors.
#pragma once

namespace gsoc::json_internal {

// True when this CPU runs the block unescaper (checked once).
bool BlockUnescapeAvailable();

// Unescapes the string body at `src` (inside a JSON string, where no escape
// is pending: its first byte, or a backslash that begins an escape) up to
// its closing quote, into `dst`. Returns the end of the output, or nullptr
// when the string is for simdjson (above) or has no closing quote before
// `limit`.
//
// Reads in 64-byte blocks: up to 63 bytes past the closing quote, and
// never a block that starts at or past `limit`; so `limit` + 63 bytes must
// be readable (the batch arena's padding). Writes in 64-byte blocks: up to
// 64 bytes past the output's end. The output is never longer than the
// input. Bytes are not otherwise validated (UTF-8 was, by simdjson's first
// stage).
char* UnescapeSimpleEscapes(const char* src, const char* limit, char* dst);

// The escaped bytes of a 64-byte block, given its backslashes: bit i is set
// when byte i is escaped by the backslash before it. `carry` in: 1 when
// byte 0 is escaped by a backslash that ended the previous block; out: the
// same for the next block. Exposed for tests.
unsigned long long EscapedBytes(unsigned long long backslashes, unsigned long long& carry);

}  // namespace gsoc::json_internal
