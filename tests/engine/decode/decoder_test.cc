// DecoderSet behaviour: loading and its errors, Hyperscan candidates with
// PCRE2 confirmation, filters, `continue`, no allocation while decoding.
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>

#include "collectors/json/json_parser.h"
#include "tests/engine/decode/test_util.h"
#include "tests/util/sanitizer.h"
#include "tests/util/temp_dir.h"

// Counts heap allocations of this thread while `g_counting` is set. Not
// under AddressSanitizer, which owns the allocator.
#define GSOC_COUNT_ALLOCATIONS (!GSOC_TEST_ASAN)

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

#if GSOC_COUNT_ALLOCATIONS
// GCC cannot see that these replace the global pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif

namespace gsoc::decode::testing {
namespace {

namespace fs = std::filesystem;

class TempDir : public gsoc::test::TempDir {
 public:
  TempDir() : gsoc::test::TempDir("decode") {}
  fs::path Write(const std::string& name, const std::string& text) const {
    const fs::path p = path() / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
};

std::unique_ptr<DecoderSet> LoadOk(const std::string& yaml,
                                   const std::vector<std::string>& listeners = {},
                                   const std::vector<std::string>& agencies = {}) {
  TempDir dir;
  auto result = DecoderSet::Load({dir.Write("d.yaml", yaml)}, listeners, agencies);
  for (const auto& e : result.errors) {
    ADD_FAILURE() << e.location.file << ":" << e.location.line << ": " << e.message;
  }
  return std::move(result.set);
}

const rules::RuleError* FindError(const std::vector<rules::RuleError>& errors,
                                  const std::string& needle) {
  for (const auto& e : errors) {
    if (e.message.find(needle) != std::string::npos) return &e;
  }
  return nullptr;
}

TEST(DecoderLoad, ReportsEveryErrorWithFileLineAndName) {
  TempDir dir;
  const fs::path file = dir.Write("bad.yaml",
                                  "decoders:\n"                              // 1
                                  "  - name: unknown-key\n"                  // 2
                                  "    regex: '(?<user>\\w+)'\n"             // 3
                                  "    prgrams: [sshd]\n"                    // 4
                                  "  - name: no-regex\n"                     // 5
                                  "    programs: [sshd]\n"                   // 6
                                  "  - name: bad-regex\n"                    // 7
                                  "    regex: 'Failed (?<user>\\S+ from'\n"  // 8
                                  "  - name: no-named-groups\n"              // 9
                                  "    regex: 'Failed (\\S+) from'\n"        // 10
                                  "  - name: dup\n"                          // 11
                                  "    regex: '(?<a>x)'\n"                   // 12
                                  "  - name: dup\n"                          // 13
                                  "    regex: '(?<a>y)'\n"                   // 14
                                  "  - name: filters\n"                      // 15
                                  "    listeners: [syslog_tcp, nope]\n"      // 16
                                  "    agencies: [mof, nobody]\n"            // 17
                                  "    regex: '(?<a>z)'\n"                   // 18
                                  "  - regex: '(?<a>w)'\n"                   // 19
                                  "  - name: bad-continue\n"                 // 20
                                  "    regex: '(?<a>v)'\n"                   // 21
                                  "    continue: maybe\n");                  // 22
  auto result = DecoderSet::Load({file}, {"syslog_tcp"}, {"unknown", "mof"});
  EXPECT_EQ(result.set, nullptr);
  for (const auto& e : result.errors) {
    EXPECT_EQ(e.location.file, file.string());
  }
  struct Want {
    const char* needle;
    int line;
    const char* name;
  };
  const Want wants[] = {
      {"unknown key `prgrams`", 4, "unknown-key"},
      {"no `regex`", 5, "no-regex"},
      {"missing closing parenthesis at offset 23", 8, "bad-regex"},
      {"no named groups", 10, "no-named-groups"},
      {"duplicate decoder name", 13, "dup"},
      {"unknown listener `nope`", 16, "filters"},
      {"unknown agency `nobody`", 17, "filters"},
      {"no `name`", 19, ""},
      {"`continue` must be true or false", 22, "bad-continue"},
  };
  for (const Want& want : wants) {
    const rules::RuleError* e = FindError(result.errors, want.needle);
    ASSERT_NE(e, nullptr) << "missing error: " << want.needle;
    EXPECT_EQ(e->location.line, want.line) << want.needle;
    EXPECT_EQ(e->rule_id, want.name) << want.needle;
  }
  EXPECT_EQ(result.errors.size(), std::size(wants));
}

TEST(DecoderLoad, DuplicateNamesAcrossFilesAndYamlSyntaxErrors) {
  TempDir dir;
  dir.Write("a/one.yaml", "decoders:\n  - name: same\n    regex: '(?<a>x)'\n");
  dir.Write("b/two.yml", "decoders:\n\n  - name: same\n    regex: '(?<a>y)'\n");
  dir.Write("c/broken.yaml", "decoders:\n  - name: [unclosed\n");
  dir.Write("c/ignored.txt", "not yaml at all: [");
  auto result = DecoderSet::Load({dir.path()}, {}, {});
  EXPECT_EQ(result.set, nullptr);
  const rules::RuleError* dup = FindError(result.errors, "duplicate decoder name");
  ASSERT_NE(dup, nullptr);
  EXPECT_NE(dup->location.file.find("two.yml"), std::string::npos);
  EXPECT_EQ(dup->location.line, 3);
  EXPECT_NE(dup->message.find("one.yaml:2"), std::string::npos) << dup->message;
  const rules::RuleError* yaml = FindError(result.errors, "YAML");
  ASSERT_NE(yaml, nullptr);
  EXPECT_NE(yaml->location.file.find("broken.yaml"), std::string::npos);
  EXPECT_GE(yaml->location.line, 2);
  EXPECT_EQ(result.errors.size(), 2u);
}

TEST(DecoderLoad, UnknownTopLevelKeyAndMissingPath) {
  TempDir dir;
  const fs::path f = dir.Write("x.yaml", "decoders: []\nrules: 1\n");
  auto result = DecoderSet::Load({f, dir.path() / "missing.yaml"}, {}, {});
  EXPECT_EQ(result.set, nullptr);
  const rules::RuleError* key = FindError(result.errors, "unknown key `rules`");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->location.line, 2);
  EXPECT_NE(FindError(result.errors, "no such file"), nullptr);
}

TEST(DecoderLoad, EmptyListLoadsAndDecodesNothing) {
  auto set = LoadOk("decoders: []\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 0u);
  auto scratch = set->MakeScratch();
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sshd[1]: hello").decoder, "");
}

// A decoder whose Hyperscan prefilter fires but whose PCRE2 regex does not
// match adds nothing; the next candidate in file order is tried.
TEST(DecoderMatch, PrefilterCandidateNotConfirmedAddsNothing) {
  auto set = LoadOk(
      "decoders:\n"
      // Backreference: Hyperscan takes it only as PREFILTER (an
      // over-approximation: any 'word word' fires); PCRE2 needs equal words.
      "  - name: repeated-word\n"
      "    regex: '(?<word>\\b\\w+) \\k<word>\\b'\n"
      "    fields: {action: repeated}\n"
      // Lookbehind + named groups.
      "  - name: after-user\n"
      "    regex: '(?<=user )(?<user>\\w+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  Decoded d = DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: hello world user bob");
  EXPECT_EQ(d.decoder, "after-user");
  EXPECT_EQ(d.fields, (std::map<std::string, std::string>{{"user", "bob"}}));
  d = DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: said hello hello");
  EXPECT_EQ(d.decoder, "repeated-word");
  EXPECT_EQ(d.fields,
            (std::map<std::string, std::string>{{"word", "hello"}, {"action", "repeated"}}));
  d = DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: nothing here");
  EXPECT_EQ(d.decoder, "");
  EXPECT_TRUE(d.fields.empty());
}

// A regex Hyperscan refuses in every form (a conditional group) still works:
// the decoder is a candidate for every event.
TEST(DecoderMatch, RegexHyperscanCannotTakeStillDecodes) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: conditional\n"
      "    regex: '^(?<open>\\()?(?<id>\\d+)(?(1)\\))$'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: (42)").Get("id"), "42");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: 42").Get("id"), "42");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: (42").decoder, "");
}

TEST(DecoderMatch, ProgramFilterIsCaseInsensitiveAndTakesOldPamForm) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: only-sshd\n"
      "    programs: [SSHD, Dropbear]\n"
      "    regex: 'user (?<user>\\w+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sshd[1]: user a").decoder,
            "only-sshd");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h SshD[1]: user a").decoder,
            "only-sshd");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h dropbear[1]: user a").decoder,
            "only-sshd");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sshd(pam_unix)[1]: user a").decoder,
            "only-sshd");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sshd2[1]: user a").decoder, "");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h ssh[1]: user a").decoder, "");
  EXPECT_EQ(DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sudo: user a").decoder, "");
}

// Each program is scanned with its own decoders plus the unfiltered ones
// (per-program Hyperscan databases): the file order still decides between
// them, a program and its old-PAM base that both have decoders get both,
// and a program nobody names gets the unfiltered ones only.
TEST(DecoderMatch, PerProgramDatabasesKeepFileOrderAndTheBaseProgram) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: any-early\n"
      "    regex: 'early=(?<e>\\w+)'\n"
      "  - name: sshd-one\n"
      "    programs: [sshd]\n"
      "    regex: 'x=(?<x>\\w+)'\n"
      "  - name: pam-form\n"
      "    programs: ['sshd(pam_unix)']\n"
      "    regex: 'p=(?<p>\\w+)'\n"
      "  - name: cron-one\n"
      "    programs: [cron, CROND]\n"
      "    regex: 'x=(?<x>\\w+)'\n"
      "  - name: any-late\n"
      "    regex: 'x=(?<late>\\w+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  auto decoder = [&](const std::string& program, const std::string& text) {
    return DecoderOf(*set, *scratch, program, text);
  };
  EXPECT_EQ(decoder("sshd[1]", "x=1"), "sshd-one");
  EXPECT_EQ(decoder("SSHD[1]", "x=1"), "sshd-one");
  EXPECT_EQ(decoder("crond[1]", "x=1"), "cron-one");
  EXPECT_EQ(decoder("cron[1]", "early=1 x=1"), "any-early");  // file order across sets
  EXPECT_EQ(decoder("named[1]", "x=1"), "any-late");          // nobody's program
  EXPECT_EQ(decoder("sshd(pam_unix)[1]", "p=1"), "pam-form");
  EXPECT_EQ(decoder("sshd(pam_unix)[1]", "x=1"), "sshd-one");  // the base's decoders too
  EXPECT_EQ(decoder("cron(pam_unix)[1]", "x=1"), "cron-one");  // only the base has decoders
  EXPECT_EQ(decoder("Sshd(Pam_Unix)[1]", "p=1 x=1"), "sshd-one");
  EXPECT_EQ(decoder(std::string(300, 'a') + "[1]", "x=1"), "any-late");
}

// Programs are looked up lower-cased in a table up to 64 bytes and compared
// name by name above: both ways give the same filters, the PAM base's too.
TEST(DecoderMatch, ProgramLookupAgreesForShortAndLongNames) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: sshd-one\n"
      "    programs: [sshd]\n"
      "    regex: 'x=(?<x>\\w+)'\n"
      "  - name: pam-form\n"
      "    programs: ['sshd(pam_unix)']\n"
      "    regex: 'p=(?<p>\\w+)'\n"
      "  - name: any-late\n"
      "    regex: 'x=(?<late>\\w+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  auto decoder = [&](const std::string& program, const std::string& text) {
    return DecoderOf(*set, *scratch, program, text);
  };
  const std::string tail(70, 'Z');  // the program passes the 64-byte table
  for (const std::string& suffix : {std::string(), "_" + tail}) {
    SCOPED_TRACE(suffix.size());
    EXPECT_EQ(decoder("sShD(pam" + suffix + ")[1]", "x=1"), "sshd-one");  // the base, mixed case
    EXPECT_EQ(decoder("SSHD(PAM" + suffix + ")[1]", "p=1"), "");          // not pam-form's name
    EXPECT_EQ(decoder("(sshd" + suffix + ")[1]", "x=1"), "any-late");     // an empty base
    EXPECT_EQ(decoder("sshdx" + suffix + "[1]", "x=1"), "any-late");
  }
  EXPECT_EQ(decoder("SshD(Pam_Unix)[1]", "p=1"), "pam-form");
  EXPECT_EQ(decoder("SshD(Pam_Unix)[1]", "x=1"), "sshd-one");
}

// A program whose decoders need a regex database gets one database for
// everything: the unfiltered decoders' literals go in as escaped regexes,
// and must still be found (brackets, quotes and dots escaped right).
TEST(DecoderMatch, LiteralsWithSpecialBytesInAMixedDatabase) {
  auto set = LoadOk(R"(decoders:
  - name: bracketed
    regex: '\[UFW "a\.b"\] (?<rest>\w+)'
  - name: su-short
    programs: [su]
    regex: 'x=(?<x>\w+)'
)");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  auto decoder = [&](const std::string& program, const std::string& text) {
    return DecoderOf(*set, *scratch, program, text);
  };
  EXPECT_EQ(decoder("su[1]", R"([UFW "a.b"] go)"), "bracketed");
  EXPECT_EQ(decoder("su[1]", "x=1"), "su-short");
  EXPECT_EQ(decoder("cron[1]", R"([UFW "a.b"] go)"), "bracketed");
  EXPECT_EQ(decoder("cron[1]", "x=1"), "");
}

// `sshd(pam_unix)` and `sshd` both name filters: the message is scanned with
// both databases, and each holds the unfiltered decoders, so a candidate
// can come twice. It must run once: a `continue` decoder's fields once.
TEST(DecoderMatch, ACandidateOfTwoDatabasesRunsOnce) {
  auto set = LoadOk(R"(decoders:
  - name: any-continue
    continue: true
    regex: 'x=(?<x>\w+)'
  - name: pam-form
    programs: ['sshd(pam_unix)']
    regex: 'p=(?<p>\w+)'
  - name: sshd-one
    programs: [sshd]
    regex: 'q=(?<q>\w+)'
)");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  const Decoded decoded =
      DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h sshd(pam_unix)[1]: x=1 p=2 q=3");
  EXPECT_EQ(decoded.decoder, "any-continue");
  EXPECT_EQ(decoded.names, (std::vector<std::string>{"x", "p"}));
}

TEST(DecoderMatch, ListenerAndAgencyFilters) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: tcp-mof\n"
      "    listeners: [syslog_tcp]\n"
      "    agencies: mof\n"
      "    regex: 'x=(?<x>\\d+)'\n"
      "  - name: fallback\n"
      "    regex: 'x=(?<y>\\d+)'\n",
      {"syslog_udp", "syslog_tcp"}, {"unknown", "mof", "moh"});
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  const char* line = "<38>Nov 25 10:00:01 h app: x=7";
  EXPECT_EQ(DecodeLine(*set, *scratch, line, 1, 1).decoder, "tcp-mof");
  EXPECT_EQ(DecodeLine(*set, *scratch, line, 1, 1).Get("x"), "7");
  EXPECT_EQ(DecodeLine(*set, *scratch, line, 0, 1).decoder, "fallback");
  EXPECT_EQ(DecodeLine(*set, *scratch, line, 1, 2).decoder, "fallback");
  EXPECT_EQ(DecodeLine(*set, *scratch, line, 1, 2).Get("y"), "7");
}

TEST(DecoderMatch, FirstMatchWinsUnlessContinue) {
  auto set = LoadOk(
      "decoders:\n"
      "  - name: first\n"
      "    regex: 'a=(?<a>\\w+)'\n"
      "    fields: {kind: one}\n"
      "    continue: true\n"
      "  - name: not-matching\n"
      "    regex: 'zzz=(?<z>\\w+)'\n"
      "  - name: second\n"
      "    regex: 'b=(?<b>\\w+)'\n"
      "  - name: third\n"
      "    regex: 'b=(?<c>\\w+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  Decoded d = DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: a=1 b=2");
  EXPECT_EQ(d.decoder, "first");
  EXPECT_EQ(d.fields,
            (std::map<std::string, std::string>{{"a", "1"}, {"kind", "one"}, {"b", "2"}}));
  d = DecodeLine(*set, *scratch, "<38>Nov 25 10:00:01 h app: b=2");
  EXPECT_EQ(d.decoder, "second");
  EXPECT_EQ(d.fields, (std::map<std::string, std::string>{{"b", "2"}}));
}

TEST(DecoderMatch, FileOrderAcrossFilesAndUnsetGroupsSkipped) {
  TempDir dir;
  dir.Write("b.yaml", "decoders:\n  - name: from-b\n    regex: 'k=(?<k>\\w+)'\n");
  dir.Write("a.yaml",
            "decoders:\n  - name: from-a\n    regex: 'k=(?<k>\\w+)(?: opt=(?<opt>\\w+))?"
            "(?<empty>\\d*)'\n    fields: {src: a}\n");
  auto result = DecoderSet::Load({dir.path()}, {}, {});
  ASSERT_TRUE(result.errors.empty());
  auto scratch = result.set->MakeScratch();
  Decoded d = DecodeLine(*result.set, *scratch, "<38>Nov 25 10:00:01 h app: k=v");
  EXPECT_EQ(d.decoder, "from-a");
  EXPECT_EQ(d.fields, (std::map<std::string, std::string>{{"k", "v"}, {"src", "a"}}));
  d = DecodeLine(*result.set, *scratch, "<38>Nov 25 10:00:01 h app: k=v opt=w");
  EXPECT_EQ(d.fields, (std::map<std::string, std::string>{{"k", "v"}, {"opt", "w"}, {"src", "a"}}));
}

TEST(DecoderMatch, ValuesAreViewsIntoTheMessage) {
  auto set = LoadOk("decoders:\n  - name: v\n    regex: 'u=(?<u>\\w+)'\n    fields: {c: d}\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  EventBatch batch;
  const std::string_view frame = batch.arena().Copy("<38>Nov 25 10:00:01 h app: u=alice");
  Event& event = batch.AddEvent();
  ParseSyslog(frame, SyslogParseContext{}, event, batch, nullptr);
  ASSERT_EQ(set->Decode(batch, event, *scratch), "v");
  const auto fields = batch.FieldsOf(event);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_GE(fields[0].value.data(), event.message.data());
  EXPECT_LE(fields[0].value.data() + fields[0].value.size(),
            event.message.data() + event.message.size());
}

// Decoders parse free text. A JSON event's free text is its `message`
// member; without one its message is the whole line (for keyword rules),
// which no decoder reads: the members are fields already, and a text
// pattern would meet them escaped inside the JSON syntax. Unparsed lines
// (not JSON after all) are free text and are decoded.
TEST(DecoderMatch, JsonEventsAreDecodedOnlyFromTheirMessageMember) {
  auto set = LoadOk(
      "decoders:\n  - name: netfilter\n    regex: 'IN=(?<in_iface>\\S*) OUT=\\S* "
      "SRC=(?<src_ip>[0-9.]+)'\n");
  ASSERT_NE(set, nullptr);
  auto scratch = set->MakeScratch();
  JsonLineParser parser;
  auto decode_json = [&](std::string_view line) {
    EventBatch batch;
    const std::string_view copy = batch.arena().CopyPadded(line);
    Event& event = batch.AddEvent();
    parser.ParseOrKeepRaw(copy, SyslogParseContext{}, event, batch);
    return std::pair(std::string(set->Decode(batch, event, *scratch)), event.format);
  };
  const auto member =
      decode_json(R"({"host":"fw1","message":"IN=eth0 OUT= SRC=192.0.2.7 DST=198.51.100.1"})");
  EXPECT_EQ(member.first, "netfilter");
  EXPECT_EQ(member.second, EventFormat::kJson);
  const auto no_member =
      decode_json(R"({"host":"fw1","log":"IN=eth0 OUT= SRC=192.0.2.7 DST=198.51.100.1"})");
  EXPECT_EQ(no_member.first, "");
  EXPECT_EQ(no_member.second, EventFormat::kJson);
  const auto unparsed = decode_json("{not json IN=eth0 OUT= SRC=192.0.2.7 DST=198.51.100.1");
  EXPECT_EQ(unparsed.first, "netfilter");
  EXPECT_EQ(unparsed.second, EventFormat::kUnparsed);
}

TEST(DecoderMatch, DecodeDoesNotAllocateOnceWarm) {
  if (!GSOC_COUNT_ALLOCATIONS) GTEST_SKIP() << "allocation counting is off under ASan";
  auto result = DecoderSet::Load({PackDir()}, {}, {});
  ASSERT_TRUE(result.errors.empty());
  const DecoderSet& set = *result.set;
  auto scratch = set.MakeScratch();
  const std::vector<std::string> lines = {
      "<38>Nov 25 10:00:01 h sshd[12]: Failed password for invalid user admin from 203.0.113.7 "
      "port 52022 ssh2",
      "<38>Nov 25 10:00:01 h sshd[812]: pam_unix(sshd:auth): authentication failure; logname= "
      "uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
      "<4>Nov 25 10:00:01 h kernel: [UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.5 DST=198.51.100.10 "
      "LEN=40 PROTO=TCP SPT=44321 DPT=22",
      "<38>Nov 25 10:00:01 h app: nothing to see"};
  EventBatch batch;
  size_t decoded = 0;
  for (int round = 0; round < 3; ++round) {
    batch.Clear();
    for (const std::string& line : lines) {
      Event& event = batch.AddEvent();
      ParseSyslog(batch.arena().Copy(line), SyslogParseContext{}, event, batch, nullptr);
    }
    g_allocations = 0;
    g_counting = round > 0;  // round 0 warms the batch's field table
    for (Event& event : batch.events()) decoded += !set.Decode(batch, event, *scratch).empty();
    g_counting = false;
    if (round > 0) {
      EXPECT_EQ(g_allocations, 0u) << "round " << round;
    }
  }
  EXPECT_EQ(decoded, 9u);
}

TEST(DecoderMatch, ScratchPerThread) {
  auto result = DecoderSet::Load({PackDir()}, {}, {});
  ASSERT_TRUE(result.errors.empty());
  const DecoderSet& set = *result.set;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto scratch = set.MakeScratch();
      for (int i = 0; i < 2000; ++i) {
        std::string user = "u";
        user += std::to_string(i);
        std::string line = "<38>Nov 25 10:00:01 h sshd[1]: Accepted password for ";
        line += user;
        line += " from 10.0.0.1 port 22 ssh2";
        if (DecodeLine(set, *scratch, line).Get("user") != user) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace gsoc::decode::testing
