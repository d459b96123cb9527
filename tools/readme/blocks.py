#!/usr/bin/env python3
"""The README's code blocks, kept true.

Every ```sh block of a Markdown file is preceded by a marker saying what CI does with it:
  <!-- ci: runs -->            run as pasted, from the repository root (bash -euo pipefail), by `run`
  <!-- ci: consumer -->        the package-consumer steps, run by .ci/consumer with an empty NuGet cache
  <!-- ci: skip (REASON) -->   not run here, for the reason given (a GPU, the whole suite run by its own step, ...)
Synopses (`[--option]`, `a|b`) belong in ```text blocks, which nothing runs.

  blocks.py check [FILE]       markers present and known, no synopsis or sudo in a shell block
  blocks.py run [FILE]         run every `ci: runs` block; one line per block, then 'N passed, N failed'
  blocks.py consumer [FILE]    print the `ci: consumer` block
  blocks.py program FILE       the C# blocks of FILE as one top-level program (usings first, the blocks in order,
                               as a reader runs them one after another), for .ci/consumer
"""
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!-- ci: (runs|consumer|skip \(.+\)) -->$")
LIMIT_S = 900


def blocks(path):
    """(line, language, marker or None, code) for every fenced block with a language."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    found, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        marker = MARKER.match(lines[k].strip()) if k >= 0 else None
        if lang:
            found.append((start + 1, lang, marker.group(1) if marker else None, "\n".join(lines[start + 1:j])))
        i = j + 1
    return found


def shell(path):
    return [b for b in blocks(path) if b[1] in ("sh", "bash", "shell")]


def check(path):
    problems = []
    for line, _, marker, code in shell(path):
        if marker is None:
            problems.append(f"{path}:{line}: a shell block without a <!-- ci: runs|consumer|skip (REASON) --> marker")
        for n, text in enumerate(code.split("\n")):
            command = re.split(r"\s#", text)[0]
            if re.search(r"\[--|\w\|\w", command):
                problems.append(f"{path}:{line + 1 + n}: a synopsis in a shell block (put it in a text block): {text.strip()}")
            if re.match(r"\s*sudo\b", command):
                problems.append(f"{path}:{line + 1 + n}: sudo, absent on a root machine: {text.strip()}")
    for p in problems:
        print(p)
    print(f"{path}: {len(shell(path))} shell blocks, {len(problems)} problems")
    return 1 if problems else 0


def run(path):
    passed = failed = 0
    for line, _, marker, code in shell(path):
        if marker != "runs":
            continue
        start = time.monotonic()
        try:
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=LIMIT_S, check=False)
            status, output = result.returncode, result.stdout
        except subprocess.TimeoutExpired as e:
            status, output = f"timed out after {LIMIT_S} s", (e.stdout or b"").decode(errors="replace")
        seconds = time.monotonic() - start
        first = code.split("\n")[0]
        if status == 0:
            passed += 1
            print(f"passed  {path}:{line} ({seconds:.0f} s): {first}", flush=True)
        else:
            failed += 1
            print(f"failed  {path}:{line} ({seconds:.0f} s, exit {status}): {first}", flush=True)
            print("\n".join("    " + t for t in output.strip().split("\n")[-25:]), flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def consumer(path):
    found = [code for _, _, marker, code in shell(path) if marker == "consumer"]
    if len(found) != 1:
        print(f"{path}: {len(found)} consumer blocks, one expected", file=sys.stderr)
        return 1
    print(found[0])
    return 0


def program(path):
    usings, bodies = [], []
    for _, lang, _, code in blocks(path):
        if lang not in ("csharp", "cs", "c#"):
            continue
        body = []
        for text in code.split("\n"):
            if re.match(r"^using [\w.]+;$", text.strip()):
                usings.append(text.strip())
            else:
                body.append(text)
        bodies.append("\n".join(body))
    print("\n".join(dict.fromkeys(usings)))
    print()
    print("\n\n".join(bodies))
    return 0


if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else "check"
    file = sys.argv[2] if len(sys.argv) > 2 else str(ROOT / "README.md")
    sys.exit({"check": check, "run": run, "consumer": consumer, "program": program}[verb](file))
