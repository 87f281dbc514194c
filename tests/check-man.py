#!/usr/bin/env python3
"""safepool(1) documents everything `safepool --help` offers: every command
and vtpm subcommand (a .SS section each) with every option of its --help
in that section, the global options, and every exit status --help names.
Fails naming what is missing.   check-man.py SAFEPOOL_BIN MAN_PAGE"""
import os
import re
import subprocess
import sys

binary, page = sys.argv[1:3]
env = dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="")


def helptext(*args):
    return subprocess.run([binary, *args, "--help"], env=env, check=True,
                          capture_output=True, text=True).stdout


def listed(text, heading):
    block = text.split(heading, 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in block.splitlines() if l.startswith("  ")]


roff = open(page, encoding="utf-8").read()
roff = roff.replace("\\-", "-").replace("\\(aq", "'").replace("\\fB", "") \
           .replace("\\fP", "").replace("\\fI", "")
sections = {}
for chunk in re.split(r"^\.S[HS] ", roff, flags=re.M)[1:]:
    title, _, body = chunk.partition("\n")
    sections[title.strip().strip('"')] = body
missing = []

top = helptext()
commands = listed(top, "Commands:")
if len(commands) < 10:
    sys.exit("check-man: safepool --help lists only %r" % commands)
subs = listed(helptext("vtpm"), "Subcommands:")
if not subs:
    sys.exit("check-man: safepool vtpm --help lists no subcommands")
for words in [[c] for c in commands if c != "vtpm"] + [["vtpm", s] for s in subs]:
    name = " ".join(words)
    if name not in sections:
        missing.append("command '%s'" % name)
        continue
    for opt in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", helptext(*words), re.M):
        if opt != "--help" and not re.search(re.escape(opt) + r"\b", sections[name]):
            missing.append("option %s of '%s'" % (opt, name))

globals_ = re.findall(r"--[\w-]+", top.splitlines()[0]) + ["--help", "--version"]
for opt in globals_:
    if opt not in sections.get("GLOBAL OPTIONS", ""):
        missing.append("global option %s" % opt)
status = re.search(r"Exit status:(.*?)\n\n|Exit status:(.*)$", top, re.S)
codes = re.findall(r"\b(\d) ", (status.group(1) or status.group(2)) if status else "")
if not codes:
    sys.exit("check-man: safepool --help names no exit status")
for code in codes:
    if not re.search(r"^\.B %s$" % code, sections.get("EXIT STATUS", ""), re.M):
        missing.append("exit status %s" % code)
if "EXAMPLES" not in sections:
    missing.append("section EXAMPLES")
for m in missing:
    print("safepool(1) lacks %s" % m, file=sys.stderr)
print("checked %d commands, %d vtpm subcommands, %d global options, exit "
      "statuses %s" % (len(commands), len(subs), len(globals_), " ".join(codes)))
sys.exit(1 if missing else 0)
