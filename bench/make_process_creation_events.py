#!/usr/bin/env python3
"""Process creation events for the SigmaHQ benchmarks (issue 9).

The OTRF LSASS data set that bench/sigmahq_corpus.sh repeats is 1% process
creation (Sysmon 1, Security 4688), the events SigmaHQ has the most rules
for. This writes a stream of only those: the data set's Sysmon 1 event
(NXLog shape) with Image, CommandLine, ParentImage, ParentCommandLine and
OriginalFileName replaced by ten common Windows programs, their usual
parents and generated arguments (a fixed seed: the same file every time).
Its other fields stay the data set's (rundll32's hashes and description),
so a few rules still fire on it.

Usage: bench/make_process_creation_events.py OUT [LINES]   (default 100000)
Then:  bench/sigmahq_corpus.sh -n LINES -d OUT GSOCCTL...
"""
import json
import os
import random
import sys

# (image, arguments, the image of its usual parent)
PROGRAMS = [
    (r"C:\Windows\System32\svchost.exe", "-k netsvcs -p -s Schedule",
     r"C:\Windows\System32\services.exe"),
    (r"C:\Program Files\Google\Chrome\Application\chrome.exe",
     "--type=renderer --field-trial-handle=1740,{a} --lang=en-US "
     "--renderer-client-id={b} --mojo-platform-channel-handle={c} /prefetch:1",
     r"C:\Program Files\Google\Chrome\Application\chrome.exe"),
    (r"C:\Windows\System32\conhost.exe", "0xffffffff", r"C:\Windows\System32\cmd.exe"),
    (r"C:\Windows\explorer.exe", "", r"C:\Windows\System32\userinit.exe"),
    (r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE", "/recycle",
     r"C:\Windows\explorer.exe"),
    (r"C:\Windows\System32\RuntimeBroker.exe", "-Embedding",
     r"C:\Windows\System32\svchost.exe"),
    (r"C:\Windows\System32\backgroundTaskHost.exe",
     "-ServerName:App.AppXc99k5qnnsvxj5szemm7fp3g7y08we5vm.mca",
     r"C:\Windows\System32\svchost.exe"),
    (r"C:\Windows\System32\SearchProtocolHost.exe",
     "Global\\UsGthrFltPipeMssGthrPipe{a} Global\\UsGthrCtrlFltPipeMssGthrPipe{a} 1 -2147483646",
     r"C:\Windows\System32\SearchIndexer.exe"),
    (r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
     "--type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US "
     "--service-sandbox-type=none --mojo-platform-channel-handle={c} /prefetch:3",
     r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"),
    (r"C:\Windows\System32\taskhostw.exe", "", r"C:\Windows\System32\svchost.exe"),
]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out, lines = sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 100000
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.environ.get("GSOC_CORPUS_DIR", os.path.join(here, "..", "..", "shared", "corpus"))
    otrf = os.path.join(corpus, "otrf-security-datasets", "windows_atomic_lsass_comsvcs",
                        "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json")
    with open(otrf, encoding="utf-8") as f:
        events = [json.loads(line) for line in f]
    sysmon1 = next(e for e in events
                   if e.get("EventID") == 1 and e.get("Channel", "").endswith("Sysmon/Operational"))
    rng = random.Random(1)
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        for _ in range(lines):
            image, arguments, parent = rng.choice(PROGRAMS)
            event = dict(sysmon1)
            event["IntegrityLevel"] = "Medium"
            event["Image"] = image
            event["CommandLine"] = ('"%s" %s' % (image, arguments.format(
                a=rng.randrange(10000), b=rng.randrange(100), c=rng.randrange(5000)))).strip()
            event["ParentImage"] = parent
            event["ParentCommandLine"] = parent
            event["OriginalFileName"] = image.rsplit("\\", 1)[-1].upper()
            f.write(json.dumps(event) + "\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
