#include "tools/loadgen/catalog.h"

#include <array>

#include "tools/loadgen/catalog_parts.h"

namespace gsoc::loadgen {
namespace {

using parts::EphemeralPort;
using parts::Pid;

constexpr int kKern = 0, kAuthpriv = 10, kCron = 9, kLocal7 = 23;
constexpr int kWarning = 4, kNotice = 5, kInfo = 6;

void SshFailedPassword(Prng& prng, MessageWriter& w) {
  w.Begin({kAuthpriv, kInfo, "sshd", Pid(prng)});
  const std::string_view user = parts::GuessedUser(prng);
  w.Text("Failed password for ");
  if (user != "root") w.Text("invalid user ");
  w.Text(user).Text(" from ").Text(parts::SourceAddress(prng, 85));
  w.Text(" port ").Number(EphemeralPort(prng)).Text(" ssh2");
}

void SshInvalidUser(Prng& prng, MessageWriter& w) {
  w.Begin({kAuthpriv, kInfo, "sshd", Pid(prng)});
  w.Text("Invalid user ").Text(parts::GuessedUser(prng)).Text(" from ");
  w.Text(parts::SourceAddress(prng, 85)).Text(" port ").Number(EphemeralPort(prng));
}

void PamAuthFailure(Prng& prng, MessageWriter& w) {
  w.Begin({kAuthpriv, kNotice, "sshd", Pid(prng)});
  w.Text("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= ");
  w.Text("rhost=").Text(parts::SourceAddress(prng, 85)).Text("  user=");
  w.Text(prng.Percent(60) ? std::string_view("root") : parts::GuessedUser(prng));
}

void SshAccepted(Prng& prng, MessageWriter& w) {
  w.Begin({kAuthpriv, kInfo, "sshd", Pid(prng)});
  w.Text(prng.Percent(70) ? "Accepted publickey for " : "Accepted password for ");
  w.Text(parts::LegitUser(prng)).Text(" from ").Text(parts::InternalAddress(prng));
  w.Text(" port ").Number(EphemeralPort(prng)).Text(" ssh2");
}

void SshConnectionClosed(Prng& prng, MessageWriter& w) {
  w.Begin({kAuthpriv, kInfo, "sshd", Pid(prng)});
  w.Text("Connection closed by authenticating user ").Text(parts::GuessedUser(prng)).Text(" ");
  w.Text(parts::SourceAddress(prng, 85)).Text(" port ").Number(EphemeralPort(prng));
  w.Text(" [preauth]");
}

void Sudo(Prng& prng, MessageWriter& w) {
  static constexpr std::array<std::string_view, 4> kCommands{"/usr/bin/systemctl restart nginx",
                                                             "/usr/bin/apt-get update", "/bin/bash",
                                                             "/usr/bin/journalctl -u sshd"};
  const std::string_view user = parts::LegitUser(prng);
  const bool failed = prng.Percent(20);
  w.Begin({kAuthpriv, failed ? kWarning : kNotice, "sudo", 0});
  w.Text("    ").Text(user).Text(" : ");
  if (failed) w.Text("3 incorrect password attempts ; ");
  w.Text("TTY=pts/").Number(prng.Range(0, 4)).Text(" ; PWD=/home/").Text(user);
  w.Text(" ; USER=root ; COMMAND=").Text(prng.Pick(std::span<const std::string_view>(kCommands)));
}

void Cron(Prng& prng, MessageWriter& w) {
  static constexpr std::array<std::string_view, 3> kJobs{
      "   cd / && run-parts --report /etc/cron.hourly", "/usr/lib/php/sessionclean",
      "command -v debian-sa1 > /dev/null && debian-sa1 1 1"};
  w.Begin({kCron, kInfo, "CRON", Pid(prng)});
  if (prng.Percent(50)) {
    w.Text("pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
    return;
  }
  w.Text("(root) CMD (").Text(prng.Pick(std::span<const std::string_view>(kJobs))).Text(")");
}

void UfwBlock(Prng& prng, MessageWriter& w) {
  static constexpr std::array<uint32_t, 8> kPorts{22, 23, 445, 3389, 5900, 8080, 3306, 6379};
  const bool tcp = prng.Percent(85);
  w.Begin({kKern, kWarning, "kernel", 0});
  w.Text("[").Number(prng.Range(1000, 999999)).Text(".").PaddedNumber(prng.Range(0, 999999), 6);
  w.Text("] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=");
  w.Text(parts::SourceAddress(prng, 60)).Text(" DST=").Text(parts::InternalAddress(prng));
  w.Text(" LEN=")
      .Number(tcp ? 44 : 78)
      .Text(" TOS=0x00 PREC=0x00 TTL=")
      .Number(prng.Range(40, 250));
  w.Text(" ID=").Number(prng.Range(1, 65535)).Text(tcp ? " PROTO=TCP SPT=" : " PROTO=UDP SPT=");
  w.Number(EphemeralPort(prng)).Text(" DPT=");
  w.Number(prng.Pick(std::span<const uint32_t>(kPorts)));
  w.Text(tcp ? " WINDOW=1024 RES=0x00 SYN URGP=0" : " LEN=58");
}

void NginxAccess(Prng& prng, MessageWriter& w) {
  static constexpr std::array<std::string_view, 5> kPages{"/", "/index.html", "/api/v1/status",
                                                          "/static/app.js", "/login"};
  static constexpr std::array<std::string_view, 4> kProbes{"/wp-login.php", "/.env",
                                                           "/phpmyadmin/index.php", "/.git/config"};
  const bool probe = prng.Percent(25);
  w.Begin({kLocal7, kInfo, "nginx", 0});
  w.Text(probe ? parts::SourceAddress(prng, 90) : parts::RandomPublicAddress(prng));
  w.Text(" - - [").Timestamp(TimestampKind::kClf).Text("] \"GET ");
  w.Text(probe ? prng.Pick(std::span<const std::string_view>(kProbes))
               : prng.Pick(std::span<const std::string_view>(kPages)));
  w.Text(" HTTP/1.1\" ").Number(probe ? 404 : 200).Text(" ").Number(prng.Range(150, 48000));
  w.Text(probe
             ? " \"-\" \"python-requests/2.31.0\""
             : " \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0\"");
}

using Renderer = void (*)(Prng&, MessageWriter&);

struct WeightedRenderer {
  unsigned weight;  // percent
  Renderer render;
};

constexpr std::array<WeightedRenderer, 9> kCatalog{{
    {22, SshFailedPassword},
    {8, SshInvalidUser},
    {8, PamAuthFailure},
    {5, SshAccepted},
    {5, SshConnectionClosed},
    {4, Sudo},
    {10, Cron},
    {18, UfwBlock},
    {20, NginxAccess},
}};

}  // namespace

void RenderCatalogEvent(Prng& prng, MessageWriter& writer) {
  uint64_t roll = prng.Range(0, 99);
  for (const WeightedRenderer& entry : kCatalog) {
    if (roll < entry.weight) return entry.render(prng, writer);
    roll -= entry.weight;
  }
  kCatalog.back().render(prng, writer);
}

}  // namespace gsoc::loadgen
