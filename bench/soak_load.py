#!/usr/bin/env python3
"""Load and client helpers of bench/soak.sh (Python 3 standard library only).

  soak_load.py send --source 127.11.0.1 --port P --transport tcp|udp|json
                    --rate N --host-name NAME [--seed S]
      Sends syslog (RFC 3164 over TCP with LF framing, or one per UDP
      datagram) or JSON lines (one object per line) from the given source
      address, paced at N messages/s on a 100 ms tick, until SIGTERM.
      Reconnects (counted on stderr) if the connection drops.

  soak_load.py stream --port P --token-file F --log FILE
                      [--hold S] [--pause S]
      An SSE client of /api/v1/alerts/stream that holds each connection S
      seconds, disconnects, waits, and resumes with Last-Event-ID. Appends
      one line per connection to FILE:
        unix_time,resume_ms,events,duplicates,status,resumed,headers_ms
      resume_ms is the time from sending the request to the first event (or
      to the headers when no event came), headers_ms to the status line;
      duplicates counts ids at or below the id it resumed from (must stay 0);
      resumed is 1 when the request carried Last-Event-ID (0 for a client's
      first connection).
"""
import argparse
import json
import random
import signal
import socket
import sys
import time

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
ATTACKERS = ["203.0.113.7", "198.51.100.23", "192.0.2.45", "203.0.113.99", "198.51.100.61"]
USERS = ["root", "admin", "oracle", "test", "ubuntu", "postgres", "git", "deploy"]

running = True


def stop(_signum, _frame):
    global running
    running = False


def syslog_line(rng, host):
    now = time.gmtime()
    stamp = "%s %2d %02d:%02d:%02d" % (MONTHS[now.tm_mon - 1], now.tm_mday, now.tm_hour,
                                       now.tm_min, now.tm_sec)
    pid = rng.randint(1000, 65000)
    kind = rng.random()
    if kind < 0.35:
        ip = rng.choice(ATTACKERS) if rng.random() < 0.8 else "10.%d.%d.%d" % (
            rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
        user = rng.choice(USERS)
        body = "sshd[%d]: Failed password for invalid user %s from %s port %d ssh2" % (
            pid, user, ip, rng.randint(1024, 65535))
        pri = 38
    elif kind < 0.45:
        body = "sshd[%d]: Accepted publickey for deploy from 10.0.0.%d port %d ssh2" % (
            pid, rng.randint(1, 254), rng.randint(1024, 65535))
        pri = 38
    elif kind < 0.55:
        body = "sudo:   admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/usr/bin/id"
        pri = 85
    elif kind < 0.75:
        body = "CRON[%d]: (root) CMD (run-parts /etc/cron.hourly)" % pid
        pri = 78
    else:
        body = ("kernel: [UFW BLOCK] IN=eth0 OUT= SRC=%s DST=10.0.0.5 LEN=60 PROTO=TCP "
                "SPT=%d DPT=%d" % (rng.choice(ATTACKERS), rng.randint(1024, 65535),
                                   rng.choice([22, 23, 445, 3389, 8080])))
        pri = 4
    return "<%d>%s %s %s" % (pri, stamp, host, body)


def json_line(rng, host):
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)
    if rng.random() < 0.5:  # Winlogbeat-style failed logon
        event = {"@timestamp": stamp, "host": {"name": host},
                 "winlog": {"channel": "Security", "event_id": 4625,
                            "provider_name": "Microsoft-Windows-Security-Auditing",
                            "event_data": {"TargetUserName": rng.choice(USERS),
                                           "IpAddress": rng.choice(ATTACKERS),
                                           "LogonType": "3"}},
                 "message": "An account failed to log on."}
    else:  # a plain application event
        event = {"timestamp": stamp, "host": host, "program": "app",
                 "message": "request served in %d ms" % rng.randint(1, 900),
                 "src_ip": "10.1.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))}
    return json.dumps(event, separators=(",", ":"))


def connect(args):
    kind = socket.SOCK_DGRAM if args.transport == "udp" else socket.SOCK_STREAM
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind((args.source, 0))
    sock.connect(("127.0.0.1", args.port))
    return sock


def send(args):
    rng = random.Random(args.seed)
    make = json_line if args.transport == "json" else syslog_line
    per_tick = args.rate / 10.0
    owed = 0.0
    sent = reconnects = 0
    sock = None
    next_tick = time.monotonic()
    while running:
        owed += per_tick
        count = int(owed)
        owed -= count
        lines = [make(rng, args.host_name) for _ in range(count)]
        try:
            if sock is None:
                sock = connect(args)
            if args.transport == "udp":
                for line in lines:
                    sock.send(line.encode())
            elif lines:
                sock.sendall(("\n".join(lines) + "\n").encode())
            sent += count
        except OSError as error:
            reconnects += 1
            print("soak_load send %s: %s (reconnecting)" % (args.host_name, error), file=sys.stderr)
            if sock is not None:
                sock.close()
            sock = None
        next_tick += 0.1
        time.sleep(max(0.0, next_tick - time.monotonic()))
    if sock is not None:
        sock.close()
    print("soak_load send %s %s: %d sent, %d reconnects" % (args.host_name, args.transport, sent,
                                                          reconnects), file=sys.stderr)


def stream_once(args, token, last_id, log):
    started = time.monotonic()
    request = ("GET /api/v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n" % token)
    if last_id is not None:
        request += "Last-Event-ID: %d\r\n" % last_id
    request += "\r\n"
    events = duplicates = status = 0
    resume_ms = headers_ms = None
    newest = last_id
    buffer = b""
    try:
        with socket.create_connection(("127.0.0.1", args.port), timeout=5) as sock:
            sock.sendall(request.encode())
            sock.settimeout(0.5)
            while running and time.monotonic() - started < args.hold:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                buffer += chunk
                lines = buffer.split(b"\n")
                buffer = lines.pop()
                for line in lines:
                    if status == 0 and line.startswith(b"HTTP/1."):
                        status = int(line.split()[1])
                        headers_ms = (time.monotonic() - started) * 1000
                    elif line.startswith(b"id: "):
                        event_id = int(line[4:].strip())
                        if events == 0:
                            resume_ms = (time.monotonic() - started) * 1000
                        events += 1
                        if last_id is not None and event_id <= last_id:
                            duplicates += 1
                        newest = event_id if newest is None else max(newest, event_id)
    except OSError as error:
        print("soak_load stream: %s" % error, file=sys.stderr)
    if headers_ms is None:
        headers_ms = (time.monotonic() - started) * 1000
    if resume_ms is None:
        resume_ms = headers_ms
    log.write("%d,%.1f,%d,%d,%d,%d,%.1f\n" % (time.time(), resume_ms, events, duplicates, status,
                                               last_id is not None, headers_ms))
    log.flush()
    return newest


def stream(args):
    with open(args.token_file) as handle:
        token = handle.read().strip()
    last_id = None
    with open(args.log, "a") as log:
        while running:
            last_id = stream_once(args, token, last_id, log)
            end = time.monotonic() + args.pause
            while running and time.monotonic() < end:
                time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("send")
    s.add_argument("--source", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--transport", choices=["tcp", "udp", "json"], required=True)
    s.add_argument("--rate", type=float, required=True)
    s.add_argument("--host-name", required=True)
    s.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("stream")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--token-file", required=True)
    t.add_argument("--log", required=True)
    t.add_argument("--hold", type=float, default=5.0)
    t.add_argument("--pause", type=float, default=1.0)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    send(args) if args.mode == "send" else stream(args)


if __name__ == "__main__":
    main()
