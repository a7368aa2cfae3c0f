// Every decoder of the shipped pack (rules/decoders) against hand-written
// lines with the exact fields each must produce.
#include <yaml-cpp/yaml.h>

#include <set>

#include "tests/engine/decode/test_util.h"

namespace gsoc::decode::testing {
namespace {

using FieldMap = std::map<std::string, std::string>;

struct Case {
  const char* line;
  const char* decoder;  // "" = no decoder may match
  FieldMap fields;      // exactly these fields
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // ---- sshd ----
      {"<38>Nov 25 10:00:01 h sshd[12]: Failed password for invalid user admin from 203.0.113.7 "
       "port 52022 ssh2",
       "sshd-failed-auth",
       {{"method", "password"},
        {"user", "admin"},
        {"src_ip", "203.0.113.7"},
        {"src_port", "52022"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Failed publickey for root from 2001:db8::1 port 22 ssh2: "
       "RSA SHA256:abc",
       "sshd-failed-auth",
       {{"method", "publickey"},
        {"user", "root"},
        {"src_ip", "2001:db8::1"},
        {"src_port", "22"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Failed password for bob from host.example.com port 4242 "
       "ssh2",
       "sshd-failed-auth",
       {{"method", "password"},
        {"user", "bob"},
        {"rhost", "host.example.com"},
        {"src_port", "4242"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: message repeated 2 times: [ Failed password for root "
       "from 192.0.2.1 port 5 ssh2]",
       "sshd-failed-auth",
       {{"method", "password"},
        {"user", "root"},
        {"src_ip", "192.0.2.1"},
        {"src_port", "5"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Failed none for invalid user  from ::1 port 5 ssh2",
       "sshd-failed-auth",
       {{"method", "none"}, {"src_ip", "::1"}, {"src_port", "5"}, {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Accepted publickey for alice from 198.51.100.4 port "
       "50000 ssh2: ED25519 SHA256:xyz",
       "sshd-accepted",
       {{"method", "publickey"},
        {"user", "alice"},
        {"src_ip", "198.51.100.4"},
        {"src_port", "50000"},
        {"action", "success"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Accepted password for fztu from fe80::1:2 port 49116 ssh2",
       "sshd-accepted",
       {{"method", "password"},
        {"user", "fztu"},
        {"src_ip", "fe80::1:2"},
        {"src_port", "49116"},
        {"action", "success"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Invalid user oracle from 203.0.113.9 port 40000",
       "sshd-invalid-user",
       {{"user", "oracle"},
        {"src_ip", "203.0.113.9"},
        {"src_port", "40000"},
        {"action", "invalid_user"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Invalid user webmaster from 173.234.31.186",
       "sshd-invalid-user",
       {{"user", "webmaster"}, {"src_ip", "173.234.31.186"}, {"action", "invalid_user"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: input_userauth_request: invalid user webmaster [preauth]",
       "sshd-invalid-user-preauth",
       {{"user", "webmaster"}, {"action", "invalid_user"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: error: maximum authentication attempts exceeded for "
       "invalid user admin from 203.0.113.5 port 5555 ssh2 [preauth]",
       "sshd-max-auth-attempts",
       {{"user", "admin"},
        {"src_ip", "203.0.113.5"},
        {"src_port", "5555"},
        {"action", "max_attempts"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Disconnecting: Too many authentication failures for root "
       "[preauth]",
       "sshd-too-many-failures",
       {{"user", "root"}, {"action", "max_attempts"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Disconnecting: Too many authentication failures [preauth]",
       "sshd-too-many-failures",
       {{"action", "max_attempts"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Disconnecting authenticating user root 203.0.113.5 port "
       "4444: Too many authentication failures [preauth]",
       "sshd-too-many-failures-user",
       {{"user", "root"},
        {"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"action", "max_attempts"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Disconnected from invalid user admin 203.0.113.5 port "
       "4444 [preauth]",
       "sshd-disconnected",
       {{"user", "admin"},
        {"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Disconnected from 2001:db8::42 port 22",
       "sshd-disconnected",
       {{"src_ip", "2001:db8::42"}, {"src_port", "22"}, {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Received disconnect from 203.0.113.5 port 4444:11: "
       "disconnected by user",
       "sshd-received-disconnect",
       {{"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"reason_code", "11"},
        {"reason", "disconnected by user"},
        {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Received disconnect from 103.99.0.122: 11: Bye Bye "
       "[preauth]",
       "sshd-received-disconnect",
       {{"src_ip", "103.99.0.122"},
        {"reason_code", "11"},
        {"reason", "Bye Bye"},
        {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: error: Received disconnect from 192.0.2.9: 3: "
       "com.jcraft.jsch.JSchException: Auth fail [preauth]",
       "sshd-received-disconnect",
       {{"src_ip", "192.0.2.9"},
        {"reason_code", "3"},
        {"reason", "com.jcraft.jsch.JSchException: Auth fail"},
        {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Connection closed by authenticating user root "
       "203.0.113.5 port 4444 [preauth]",
       "sshd-connection-closed",
       {{"user", "root"},
        {"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Connection closed by 192.0.2.3 [preauth]",
       "sshd-connection-closed",
       {{"src_ip", "192.0.2.3"}, {"action", "disconnect"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: reverse mapping checking getaddrinfo for "
       "ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
       "sshd-reverse-mapping-failed",
       {{"rhost", "ns.marryaldkfaczcz.com"},
        {"src_ip", "173.234.31.186"},
        {"action", "break_in_attempt"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Address 203.0.113.5 maps to evil.example.com, but this "
       "does not map back to the address - POSSIBLE BREAK-IN ATTEMPT!",
       "sshd-address-mismatch",
       {{"src_ip", "203.0.113.5"}, {"rhost", "evil.example.com"}, {"action", "break_in_attempt"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Did not receive identification string from 203.0.113.5 "
       "port 4444",
       "sshd-no-identification",
       {{"src_ip", "203.0.113.5"}, {"src_port", "4444"}, {"action", "no_identification"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Bad protocol version identification 'GET / HTTP/1.1' "
       "from 203.0.113.5 port 4444",
       "sshd-bad-protocol",
       {{"reason", "GET / HTTP/1.1"},
        {"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"action", "bad_protocol"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: fatal: Unable to negotiate with 203.0.113.5 port 4444: no "
       "matching cipher found. Their offer: aes128-cbc [preauth]",
       "sshd-unable-to-negotiate",
       {{"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"reason", "no matching cipher found. Their offer: aes128-cbc"},
        {"action", "negotiation_failed"}}},
      {"<38>Nov 25 10:00:01 h sshd[12]: Connection from 203.0.113.5 port 4444 on 10.0.0.1 port 22",
       "sshd-connection-from",
       {{"src_ip", "203.0.113.5"},
        {"src_port", "4444"},
        {"dst_ip", "10.0.0.1"},
        {"dst_port", "22"},
        {"action", "connect"}}},
      // Not sshd: the program filter keeps sshd decoders away.
      {"<38>Nov 25 10:00:01 h myapp[12]: Failed password for root from 203.0.113.7 port 1 ssh2",
       "",
       {}},
      // ---- PAM ----
      {"<38>Nov 25 10:00:01 h sshd[5]: PAM 2 more authentication failures; logname= uid=0 "
       "euid=0 tty=ssh ruser= rhost=203.0.113.5  user=root",
       "pam-more-failures",
       {{"count", "2"},
        {"uid", "0"},
        {"tty", "ssh"},
        {"src_ip", "203.0.113.5"},
        {"rhost", "203.0.113.5"},
        {"user", "root"},
        {"action", "failure"}}},
      {"<38>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 "
       "euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
       "pam-auth-failure",
       {{"uid", "0"},
        {"tty", "NODEVssh"},
        {"src_ip", "218.188.2.4"},
        {"rhost", "218.188.2.4"},
        {"action", "failure"}}},
      {"<38>Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 "
       "euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
       "pam-auth-failure",
       {{"uid", "0"},
        {"tty", "NODEVssh"},
        {"rhost", "220-135-151-1.hinet-ip.hinet.net"},
        {"user", "root"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[812]: pam_unix(sshd:auth): authentication failure; logname= "
       "uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
       "pam-auth-failure",
       {{"service", "sshd"},
        {"uid", "0"},
        {"tty", "ssh"},
        {"src_ip", "203.0.113.9"},
        {"rhost", "203.0.113.9"},
        {"user", "root"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[812]: pam_unix(sshd:auth): authentication failure; logname= "
       "uid=0 euid=0 tty=ssh ruser= rhost=2001:db8::5",
       "pam-auth-failure",
       {{"service", "sshd"},
        {"uid", "0"},
        {"tty", "ssh"},
        {"src_ip", "2001:db8::5"},
        {"rhost", "2001:db8::5"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[812]: pam_unix(sshd:auth): authentication failure; logname= "
       "uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4.example.net",
       "pam-auth-failure",
       {{"service", "sshd"},
        {"uid", "0"},
        {"tty", "ssh"},
        {"rhost", "1.2.3.4.example.net"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sudo: pam_unix(sudo:auth): authentication failure; logname=alice "
       "uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
       "pam-auth-failure",
       {{"service", "sudo"},
        {"logname", "alice"},
        {"uid", "1000"},
        {"tty", "/dev/pts/0"},
        {"ruser", "alice"},
        {"user", "alice"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h su[99]: pam_unix(su:auth): authentication failure; logname=bob "
       "uid=1000 euid=0 tty=pts/1 ruser=bob rhost=  user=root",
       "pam-auth-failure",
       {{"service", "su"},
        {"logname", "bob"},
        {"uid", "1000"},
        {"tty", "pts/1"},
        {"ruser", "bob"},
        {"user", "root"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h vsftpd: pam_unix(vsftpd:auth): authentication failure; logname= "
       "uid=0 euid=0 tty=ftp ruser=alice rhost=198.51.100.20",
       "pam-auth-failure",
       {{"service", "vsftpd"},
        {"uid", "0"},
        {"tty", "ftp"},
        {"ruser", "alice"},
        {"src_ip", "198.51.100.20"},
        {"rhost", "198.51.100.20"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sshd[5]: pam_unix(sshd:auth): check pass; user unknown",
       "pam-user-unknown",
       {{"service", "sshd"}, {"action", "user_unknown"}}},
      {"<38>Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
       "pam-user-unknown",
       {{"action", "user_unknown"}}},
      {"<38>Nov 25 10:00:01 h CRON[123]: pam_unix(cron:session): session opened for user root by "
       "(uid=0)",
       "pam-session-opened",
       {{"service", "cron"}, {"user", "root"}, {"uid", "0"}, {"action", "session_opened"}}},
      {"<38>Nov 25 10:00:01 h sudo: pam_unix(sudo:session): session opened for user root by "
       "ubuntu(uid=0)",
       "pam-session-opened",
       {{"service", "sudo"},
        {"user", "root"},
        {"ruser", "ubuntu"},
        {"uid", "0"},
        {"action", "session_opened"}}},
      {"<38>Jul 10 04:04:02 combo su(pam_unix)[2]: session opened for user news by (uid=0)",
       "pam-session-opened",
       {{"user", "news"}, {"uid", "0"}, {"action", "session_opened"}}},
      {"<38>Jul 10 04:04:02 combo login(pam_unix)[2]: session opened for user root by LOGIN(uid=0)",
       "pam-session-opened",
       {{"user", "root"}, {"ruser", "LOGIN"}, {"uid", "0"}, {"action", "session_opened"}}},
      {"<38>Nov 25 10:00:01 h CRON[123]: pam_unix(cron:session): session closed for user root",
       "pam-session-closed",
       {{"service", "cron"}, {"user", "root"}, {"action", "session_closed"}}},
      {"<38>Nov 25 10:00:01 h chpasswd[5]: pam_unix(chpasswd:chauthtok): password changed for "
       "elastic_user_1",
       "pam-password-changed",
       {{"service", "chpasswd"}, {"user", "elastic_user_1"}, {"action", "password_changed"}}},
      {"<38>Nov 25 10:00:01 h chpasswd[5]: pam_unix(chpasswd:chauthtok): user \"bob\" does not "
       "exist in /etc/passwd",
       "pam-no-such-user",
       {{"service", "chpasswd"}, {"user", "bob"}, {"action", "user_unknown"}}},
      // ---- sudo ----
      {"<38>Nov 25 10:00:01 h sudo:   ubuntu : TTY=pts/0 ; PWD=/home ; USER=root ; "
       "COMMAND=/bin/ls -la",
       "sudo-command",
       {{"user", "ubuntu"},
        {"tty", "pts/0"},
        {"pwd", "/home"},
        {"target_user", "root"},
        {"command", "/bin/ls -la"},
        {"action", "command"}}},
      {"<38>Nov 25 10:00:01 h sudo: alice : TTY=pts/1 ; PWD=/tmp ; USER=root ; GROUP=wheel ; "
       "COMMAND=/usr/bin/id",
       "sudo-command",
       {{"user", "alice"},
        {"tty", "pts/1"},
        {"pwd", "/tmp"},
        {"target_user", "root"},
        {"command", "/usr/bin/id"},
        {"action", "command"}}},
      {"<38>Nov 25 10:00:01 h sudo: alice : 3 incorrect password attempts ; TTY=pts/0 ; "
       "PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
       "sudo-incorrect-password",
       {{"user", "alice"},
        {"count", "3"},
        {"tty", "pts/0"},
        {"pwd", "/home/alice"},
        {"target_user", "root"},
        {"command", "/bin/bash"},
        {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h sudo: mallory : user NOT in sudoers ; TTY=pts/2 ; "
       "PWD=/home/mallory ; USER=root ; COMMAND=/bin/cat /etc/shadow",
       "sudo-denied",
       {{"user", "mallory"},
        {"reason", "user NOT in sudoers"},
        {"tty", "pts/2"},
        {"pwd", "/home/mallory"},
        {"target_user", "root"},
        {"command", "/bin/cat /etc/shadow"},
        {"action", "denied"}}},
      // ---- su ----
      {"<38>Nov 25 10:00:01 h su[123]: FAILED SU (to root) bob on pts/0",
       "su-failed",
       {{"target_user", "root"}, {"user", "bob"}, {"tty", "pts/0"}, {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h su[123]: Successful su for root by ubuntu",
       "su-successful",
       {{"target_user", "root"}, {"user", "ubuntu"}, {"action", "success"}}},
      {"<38>Nov 25 10:00:01 h su[123]: + /dev/pts/0 ubuntu:root",
       "su-session-success",
       {{"tty", "/dev/pts/0"}, {"user", "ubuntu"}, {"target_user", "root"}, {"action", "success"}}},
      {"<38>Nov 25 10:00:01 h su[123]: - /dev/pts/0 bob:root",
       "su-session-failure",
       {{"tty", "/dev/pts/0"}, {"user", "bob"}, {"target_user", "root"}, {"action", "failure"}}},
      // ---- accounts ----
      {"<38>Nov 25 10:00:01 h useradd[750]: new user: name=elastic_user_0, UID=1001, GID=1001, "
       "home=/home/elastic_user_0, shell=/bin/bash",
       "useradd-new-user",
       {{"user", "elastic_user_0"},
        {"uid", "1001"},
        {"gid", "1001"},
        {"home", "/home/elastic_user_0"},
        {"shell", "/bin/bash"},
        {"action", "user_created"}}},
      {"<38>Nov 25 10:00:01 h useradd[750]: new user: name=x, UID=1002, GID=1002, home=/home/x, "
       "shell=/bin/sh, from=/dev/pts/0",
       "useradd-new-user",
       {{"user", "x"},
        {"uid", "1002"},
        {"gid", "1002"},
        {"home", "/home/x"},
        {"shell", "/bin/sh"},
        {"action", "user_created"}}},
      {"<38>Nov 25 10:00:01 h groupadd[5]: new group: name=developers, GID=1002",
       "useradd-new-group",
       {{"group", "developers"}, {"gid", "1002"}, {"action", "group_created"}}},
      {"<38>Nov 25 10:00:01 h useradd[5]: failed adding user 'elastic_user_3', data deleted",
       "useradd-failed",
       {{"user", "elastic_user_3"}, {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h userdel[5]: delete user 'bob'",
       "userdel-delete-user",
       {{"user", "bob"}, {"action", "user_deleted"}}},
      {"<38>Nov 25 10:00:01 h userdel[5]: removed group 'bob' owned by 'bob'",
       "userdel-remove-group",
       {{"group", "bob"}, {"action", "group_deleted"}}},
      {"<38>Nov 25 10:00:01 h groupdel[5]: group 'devs' removed",
       "userdel-remove-group",
       {{"group", "devs"}, {"action", "group_deleted"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: add 'bob' to group 'sudo'",
       "usermod-add-to-group",
       {{"user", "bob"}, {"group", "sudo"}, {"action", "group_member_added"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: add 'bob' to shadow group 'sudo'",
       "usermod-add-to-group",
       {{"user", "bob"}, {"group", "sudo"}, {"action", "group_member_added"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: delete 'bob' from group 'sudo'",
       "usermod-remove-from-group",
       {{"user", "bob"}, {"group", "sudo"}, {"action", "group_member_removed"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: change user 'bob' shell from '/bin/sh' to '/bin/bash'",
       "usermod-change-user",
       {{"user", "bob"},
        {"change", "shell from '/bin/sh' to '/bin/bash'"},
        {"action", "user_changed"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: change user 'bob' password",
       "usermod-change-user",
       {{"user", "bob"}, {"change", "password"}, {"action", "user_changed"}}},
      {"<38>Nov 25 10:00:01 h usermod[5]: lock user 'bob' password",
       "usermod-lock-user",
       {{"change", "lock"}, {"user", "bob"}, {"action", "user_changed"}}},
      // ---- cron ----
      {"<38>Nov 25 10:00:01 h CRON[4321]: (root) CMD (   cd / && run-parts --report "
       "/etc/cron.hourly)",
       "cron-command",
       {{"user", "root"},
        {"command", "cd / && run-parts --report /etc/cron.hourly"},
        {"action", "command"}}},
      // ---- firewall ----
      {"<4>Nov 25 10:00:01 h kernel: [ 1234.5678] [UFW BLOCK] IN=eth0 OUT= "
       "MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.5 DST=198.51.100.10 LEN=40 "
       "TOS=0x00 PREC=0x00 TTL=245 ID=54321 PROTO=TCP SPT=44321 DPT=22 WINDOW=1024 RES=0x00 SYN "
       "URGP=0",
       "ufw-block",
       {{"in_iface", "eth0"},
        {"src_ip", "203.0.113.5"},
        {"dst_ip", "198.51.100.10"},
        {"proto", "TCP"},
        {"src_port", "44321"},
        {"dst_port", "22"},
        {"action", "block"}}},
      {"<4>Nov 25 10:00:01 h kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 "
       "SRC=203.0.113.5 DST=198.51.100.10 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=ICMP "
       "TYPE=8 CODE=0 ID=1 SEQ=1",
       "ufw-block",
       {{"in_iface", "eth0"},
        {"src_ip", "203.0.113.5"},
        {"dst_ip", "198.51.100.10"},
        {"proto", "ICMP"},
        {"icmp_type", "8"},
        {"icmp_code", "0"},
        {"action", "block"}}},
      {"<4>Nov 25 10:00:01 h kernel: [UFW BLOCK] IN=eth0 OUT= MAC=aa:bb "
       "SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:db8::2 LEN=80 TC=0 HOPLIMIT=64 "
       "FLOWLBL=0 PROTO=TCP SPT=5555 DPT=443 WINDOW=64800 RES=0x00 SYN URGP=0",
       "ufw-block",
       {{"in_iface", "eth0"},
        {"src_ip", "2001:0db8:0000:0000:0000:0000:0000:0001"},
        {"dst_ip", "2001:db8::2"},
        {"proto", "TCP"},
        {"src_port", "5555"},
        {"dst_port", "443"},
        {"action", "block"}}},
      {"<4>Nov 25 10:00:01 h kernel: [UFW ALLOW] IN=eth0 OUT= MAC=aa:bb SRC=192.0.2.53 "
       "DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=53 DPT=40000 LEN=40",
       "ufw-allow",
       {{"in_iface", "eth0"},
        {"src_ip", "192.0.2.53"},
        {"dst_ip", "10.0.0.5"},
        {"proto", "UDP"},
        {"src_port", "53"},
        {"dst_port", "40000"},
        {"action", "allow"}}},
      {"<4>Nov 25 10:00:01 h kernel: [ 5.1] [UFW AUDIT] IN= OUT=eth0 SRC=10.0.0.2 DST=10.0.0.1 "
       "LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=2 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=1 SYN URGP=0",
       "ufw-audit",
       {{"out_iface", "eth0"},
        {"src_ip", "10.0.0.2"},
        {"dst_ip", "10.0.0.1"},
        {"proto", "TCP"},
        {"src_port", "40000"},
        {"dst_port", "80"},
        {"action", "audit"}}},
      {"<4>Nov 25 10:00:01 h kernel: [   99.123456] IPTABLES-DROP: IN=eth1 OUT= MAC=aa:bb "
       "SRC=198.51.100.9 DST=10.0.0.1 LEN=52 TOS=0x00 PREC=0x00 TTL=50 ID=3 PROTO=UDP SPT=1 "
       "DPT=2 LEN=32",
       "netfilter-log",
       {{"log_prefix", "IPTABLES-DROP:"},
        {"in_iface", "eth1"},
        {"src_ip", "198.51.100.9"},
        {"dst_ip", "10.0.0.1"},
        {"proto", "UDP"},
        {"src_port", "1"},
        {"dst_port", "2"}}},
      {"<4>Nov 25 10:00:01 h kernel: IN=eth0 OUT=eth1 SRC=10.0.0.9 DST=8.8.8.8 LEN=84 TOS=0x00 "
       "PREC=0x00 TTL=63 ID=4 DF PROTO=ICMP TYPE=0 CODE=0 ID=9 SEQ=1",
       "netfilter-log",
       {{"in_iface", "eth0"},
        {"out_iface", "eth1"},
        {"src_ip", "10.0.0.9"},
        {"dst_ip", "8.8.8.8"},
        {"proto", "ICMP"},
        {"icmp_type", "0"},
        {"icmp_code", "0"}}},
      // ---- web ----
      {"<38>Nov 25 10:00:01 h nginx: 203.0.113.5 - alice [10/Oct/2000:13:55:36 -0700] \"GET "
       "/a?b=1 HTTP/1.1\" 200 2326 \"http://ref.example/\" \"Mozilla/5.0 (X11)\"",
       "web-access-combined",
       {{"src_ip", "203.0.113.5"},
        {"user", "alice"},
        {"method", "GET"},
        {"url", "/a?b=1"},
        {"status", "200"},
        {"bytes", "2326"},
        {"referrer", "http://ref.example/"},
        {"user_agent", "Mozilla/5.0 (X11)"}}},
      {"<38>Nov 25 10:00:01 h nginx: 2001:db8::7 - - [10/Oct/2000:13:55:36 -0700] \"POST /login "
       "HTTP/2.0\" 401 - \"-\" \"curl/8.0 \\\"x\\\"\"",
       "web-access-combined",
       {{"src_ip", "2001:db8::7"},
        {"method", "POST"},
        {"url", "/login"},
        {"status", "401"},
        {"user_agent", "curl/8.0 \\\"x\\\""}}},
      {"<38>Nov 25 10:00:01 h apache: 203.0.113.5 - - [10/Oct/2000:13:55:36 -0700] \"GET "
       "/index.html HTTP/1.0\" 404 -",
       "web-access-common",
       {{"src_ip", "203.0.113.5"}, {"method", "GET"}, {"url", "/index.html"}, {"status", "404"}}},
      {"<38>Nov 25 10:00:01 h apache: 198.51.100.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET "
       "/apache_pb.gif HTTP/1.0\" 200 2326",
       "web-access-common",
       {{"src_ip", "198.51.100.1"},
        {"user", "frank"},
        {"method", "GET"},
        {"url", "/apache_pb.gif"},
        {"status", "200"},
        {"bytes", "2326"}}},
      // ---- vsftpd ----
      {"<38>Nov 25 10:00:01 h vsftpd[1234]: [pid 1234] [bob] FAIL LOGIN: Client \"203.0.113.5\"",
       "vsftpd-login-failed",
       {{"user", "bob"}, {"src_ip", "203.0.113.5"}, {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h vsftpd[1234]: [pid 1234] [bob] FAIL LOGIN: Client "
       "\"::ffff:203.0.113.5\"",
       "vsftpd-login-failed",
       {{"user", "bob"}, {"src_ip", "::ffff:203.0.113.5"}, {"action", "failure"}}},
      {"<38>Nov 25 10:00:01 h vsftpd[1234]: [pid 1234] [alice] OK LOGIN: Client \"198.51.100.7\"",
       "vsftpd-login-ok",
       {{"user", "alice"}, {"src_ip", "198.51.100.7"}, {"action", "success"}}},
      {"<38>Nov 25 10:00:01 h vsftpd[1233]: [pid 1233] CONNECT: Client \"198.51.100.7\"",
       "vsftpd-connect",
       {{"src_ip", "198.51.100.7"}, {"action", "connect"}}},
      {"<38>Nov 25 10:00:01 h vsftpd[1235]: [pid 1235] [alice] OK UPLOAD: Client "
       "\"198.51.100.7\", \"/home/alice/x.bin\", 1024 bytes, 50.00Kbyte/sec",
       "vsftpd-transfer",
       {{"user", "alice"},
        {"result", "OK"},
        {"operation", "UPLOAD"},
        {"src_ip", "198.51.100.7"},
        {"file", "/home/alice/x.bin"}}},
      // ---- ftpd / klogind (Linux corpus) ----
      {"<38>Jul 24 02:38:22 combo ftpd[16781]: connection from 84.102.20.2 () at Sun Jul 24 "
       "02:38:22 2005 ",
       "ftpd-connection",
       {{"src_ip", "84.102.20.2"}, {"action", "connect"}}},
      {"<38>Jul 24 02:38:22 combo ftpd[16781]: connection from 82.68.222.194 "
       "(82-68-222-194.dsl.in-addr.zen.co.uk) at Sun Jul 24 02:38:22 2005",
       "ftpd-connection",
       {{"src_ip", "82.68.222.194"},
        {"rhost", "82-68-222-194.dsl.in-addr.zen.co.uk"},
        {"action", "connect"}}},
      {"<38>Jul 24 02:38:23 combo ftpd[16781]: ANONYMOUS FTP LOGIN FROM 84.102.20.2,  (anonymous)",
       "ftpd-anonymous-login",
       {{"src_ip", "84.102.20.2"}, {"user", "anonymous"}, {"action", "success"}}},
      {"<38>Jun 30 20:53:04 combo klogind[19272]: Authentication failed from 163.27.187.39 "
       "(163.27.187.39): Permission denied in replay cache code ",
       "klogind-auth-failed",
       {{"src_ip", "163.27.187.39"},
        {"rhost", "163.27.187.39"},
        {"reason", "Permission denied in replay cache code"},
        {"action", "failure"}}},
      // ---- named ----
      {"<38>Nov 25 10:00:01 h named[5]: client @0x7f1c2c0a3b60 203.0.113.5#53124 (example.com): "
       "query (cache) 'example.com/A/IN' denied",
       "named-query-denied",
       {{"src_ip", "203.0.113.5"},
        {"src_port", "53124"},
        {"domain", "example.com"},
        {"query_type", "A"},
        {"query_class", "IN"},
        {"action", "denied"}}},
      {"<38>Nov 25 10:00:01 h named[5]: client 2001:db8::9#40000: query 'example.net/ANY/IN' "
       "denied",
       "named-query-denied",
       {{"src_ip", "2001:db8::9"},
        {"src_port", "40000"},
        {"domain", "example.net"},
        {"query_type", "ANY"},
        {"query_class", "IN"},
        {"action", "denied"}}},
      {"<38>Nov 25 10:00:01 h named[5]: client @0x7f1c 203.0.113.5#40000 (example.org): zone "
       "transfer 'example.org/AXFR/IN' denied",
       "named-zone-transfer-denied",
       {{"src_ip", "203.0.113.5"},
        {"src_port", "40000"},
        {"domain", "example.org"},
        {"query_type", "AXFR"},
        {"query_class", "IN"},
        {"action", "zone_transfer_denied"}}},
      {"<38>Nov 25 10:00:01 h named[5]: client @0x7f1c 198.51.100.2#5353 (www.example.com): "
       "query: www.example.com IN AAAA +E(0)K (192.0.2.53)",
       "named-query",
       {{"src_ip", "198.51.100.2"},
        {"src_port", "5353"},
        {"domain", "www.example.com"},
        {"query_class", "IN"},
        {"query_type", "AAAA"},
        {"query_flags", "+E(0)K"},
        {"dst_ip", "192.0.2.53"},
        {"action", "query"}}},
      {"<38>Nov 25 10:00:01 h named[5]: query: example.com IN A + (1.2.3.4)",
       "named-query",
       {{"domain", "example.com"},
        {"query_class", "IN"},
        {"query_type", "A"},
        {"query_flags", "+"},
        {"dst_ip", "1.2.3.4"},
        {"action", "query"}}},
      {"<38>Nov 25 10:00:01 h named[5]: notify question section contains no SOA", "", {}},
  };
  return cases;
}

class PackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = DecoderSet::Load({PackDir()}, {"syslog_tcp"}, {"unknown"});
    for (const auto& error : result.errors) {
      ADD_FAILURE() << error.location.file << ":" << error.location.line << ": " << error.rule_id
                    << ": " << error.message;
    }
    set_ = result.set.release();
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }
  static DecoderSet* set_;
};
DecoderSet* PackTest::set_ = nullptr;

TEST_F(PackTest, EveryCaseDecodesToExactlyItsFields) {
  ASSERT_NE(set_, nullptr);
  auto scratch = set_->MakeScratch();
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.line);
    const Decoded d = DecodeLine(*set_, *scratch, c.line);
    EXPECT_EQ(d.decoder, c.decoder) << "message: " << d.message << " program: " << d.program;
    EXPECT_EQ(d.fields, c.fields);
    // One value per field name.
    EXPECT_EQ(d.names.size(), d.fields.size());
  }
}

// Names of all decoders in the pack, read with yaml-cpp directly (not through
// DecoderSet), so that a decoder nobody tests is noticed.
std::vector<std::string> PackDecoderNames() {
  std::vector<std::string> names;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(PackDir())) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    for (const YAML::Node& d : YAML::LoadFile(file.string())["decoders"]) {
      names.push_back(d["name"].as<std::string>());
    }
  }
  return names;
}

TEST_F(PackTest, EveryPackDecoderHasACase) {
  ASSERT_NE(set_, nullptr);
  const std::vector<std::string> names = PackDecoderNames();
  EXPECT_EQ(names.size(), set_->size());
  std::set<std::string> covered;
  for (const Case& c : Cases()) covered.insert(c.decoder);
  for (const std::string& name : names) {
    EXPECT_TRUE(covered.count(name)) << "no unit case for decoder " << name;
  }
}

TEST_F(PackTest, PackFilesAreOneListEach) {
  // Folder load and file-by-file load give the same set size.
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(PackDir())) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  auto result = DecoderSet::Load(files, {}, {});
  ASSERT_TRUE(result.errors.empty());
  EXPECT_EQ(result.set->size(), set_->size());
}

}  // namespace
}  // namespace gsoc::decode::testing
