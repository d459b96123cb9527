#!/usr/bin/env python3
"""The issue-slot model of a GPU program's main loop, from its SASS (cuobjdump -sass of ptxas -arch=sm_90 output).

A GPU issues at most one instruction per clock per scheduler (H100/H200: 132 SMs x 4 schedulers x 1.98 GHz), so a
loop whose body holds n instructions, f of them FFMA (a warp's 32 fused multiply-adds, 64 flops), runs at most at
f/n of the float32 peak, 66.9 TFLOP/s; a loop with h HMMA m16n8k8 TF32 (2048 flops per warp) at most at
2048 h / n instructions' worth of the issue rate, never above the 494.7 TFLOP/s TF32 dense peak. The ceiling is
necessary, not sufficient: latency, bank conflicts and memory can keep a loop below it; a loop far below it
cannot be fast. It is a ceiling, not a speed.

The main loop is the backward branch whose body (from the branch target to the branch) holds the most FFMA or
HMMA and no other backward branch. Counts are static SASS instructions in that body.

    python3 tools/gpu/issue_slots.py DIR        # every DIR/*.sass with a loop holding FFMA or HMMA; a Markdown table
    python3 tools/gpu/issue_slots.py --json DIR # the same as JSON
    python3 tools/gpu/issue_slots.py --self-test  # checks the parser and the model on a small listing (CI runs it)
"""
import json
import pathlib
import re
import sys

SCHEDULER_ISSUE_RATE = 132 * 4 * 1.98e9  # instructions per second, H100/H200 SXM
FP32_PEAK = SCHEDULER_ISSUE_RATE * 64     # 66.9e12 flop/s
TF32_PEAK = 494.7e12                      # dense TF32 tensor-core peak, flop/s
HMMA_FLOPS = 2048                         # m16n8k8: 16 * 8 * 8 multiply-adds per warp

LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
TARGET = re.compile(r"0x([0-9a-f]+)")


def parse(text):
    """The instructions of one SASS listing as (address, opcode, full text)."""
    out = []
    for line in text.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        body = m.group(2).strip()
        body = re.sub(r"^@!?U?P[0-9T]+\s+", "", body)
        opcode = body.split()[0] if body else ""
        out.append((int(m.group(1), 16), opcode, body))
    return out


def loops(instructions):
    """Backward branches as (first index, last index) of their bodies."""
    index = {address: i for i, (address, _, _) in enumerate(instructions)}
    found = []
    for i, (address, opcode, body) in enumerate(instructions):
        if opcode.split(".")[0] != "BRA":
            continue
        m = TARGET.search(body.split(None, 1)[1] if " " in body else "")
        if not m:
            continue
        target = int(m.group(1), 16)
        if target <= address and target in index:
            found.append((index[target], i))
    return found


def count(instructions, first, last):
    c = {"instructions": 0, "FFMA": 0, "HMMA": 0, "MUFU.RCP": 0, "LDS": 0, "LDS.128": 0, "STS": 0, "LDG": 0,
         "LDG.128": 0, "LD": 0, "LDGSTS": 0, "LDSM": 0, "BAR": 0, "IMAD": 0, "IADD3": 0, "other": 0}
    for _, opcode, _ in instructions[first:last + 1]:
        c["instructions"] += 1
        base = opcode.split(".")[0]
        if base == "MUFU":
            if ".RCP" in opcode:
                c["MUFU.RCP"] += 1
            else:
                c["other"] += 1
        elif base in ("LDS", "LDG"):
            c[base] += 1
            if ".128" in opcode:
                c[base + ".128"] += 1
        elif base in c:
            c[base] += 1
        else:
            c["other"] += 1
    return c


def main_loop(instructions):
    """The innermost backward branch with the most FFMA (float32) or HMMA (tensor cores), or None."""
    spans = loops(instructions)
    innermost = [s for s in spans if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]
    best, best_key = None, (0, 0)
    for first, last in innermost:
        c = count(instructions, first, last)
        key = (c["HMMA"], c["FFMA"])
        if key > best_key:
            best, best_key = (first, last, c), key
    return best


def ceiling(c):
    """The loop's ceiling in flop/s: FFMA share of the float32 peak, or the HMMA issue bound capped at the TF32 peak."""
    n = c["instructions"]
    if c["HMMA"]:
        return min(TF32_PEAK, HMMA_FLOPS * c["HMMA"] / n * SCHEDULER_ISSUE_RATE)
    return c["FFMA"] / n * FP32_PEAK


def analyse(path):
    instructions = parse(path.read_text())
    found = main_loop(instructions)
    if found is None:
        return None
    first, last, c = found
    return {
        "program": path.stem,
        "loop": f"0x{instructions[first][0]:x}-0x{instructions[last][0]:x}",
        **c,
        "ffma_share": c["FFMA"] / c["instructions"],
        "instructions_per_hmma": c["instructions"] / c["HMMA"] if c["HMMA"] else None,
        "ceiling_tflops": ceiling(c) / 1e12,
    }


def table(rows):
    lines = [
        "| program | loop instructions | FFMA | HMMA | FFMA share | instructions per HMMA | integer divisions (MUFU.RCP) "
        "| LDS (.128) | LDG (.128) | LD generic | LDGSTS | LDSM | BAR | ceiling TFLOP/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per = f"{r['instructions_per_hmma']:.1f}" if r["instructions_per_hmma"] else "-"
        lines.append(
            f"| {r['program']} | {r['instructions']} | {r['FFMA']} | {r['HMMA']} | {r['ffma_share']:.0%} | {per} | {r['MUFU.RCP']} "
            f"| {r['LDS']} ({r['LDS.128']}) | {r['LDG']} ({r['LDG.128']}) | {r['LD']} | {r['LDGSTS']} | {r['LDSM']} | {r['BAR']} | {r['ceiling_tflops']:.1f} |")
    return "\n".join(lines)


SAMPLE = """
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   FFMA R2, R3, R4, R2 ;
        /*0020*/              @!P0 BRA 0x10 ;
        /*0030*/                   LDS.128 R4, [R5] ;
        /*0040*/                   FFMA R2, R3, R4, R2 ;
        /*0050*/                   FFMA R6, R3, R4, R6 ;
        /*0060*/                   MUFU.RCP R7, R7 ;
        /*0070*/                   HMMA.1688.F32.TF32 R8, R10, R12, R8 ;
        /*0080*/               @P1 BRA 0x30 ;
        /*0090*/                   EXIT ;
"""


def self_test():
    instructions = parse(SAMPLE)
    assert len(instructions) == 10, instructions
    assert loops(instructions) == [(1, 2), (3, 8)], loops(instructions)
    first, last, c = main_loop(instructions)
    assert (first, last) == (3, 8), (first, last)  # the loop with HMMA wins over the one with an FFMA
    assert (c["instructions"], c["FFMA"], c["HMMA"], c["MUFU.RCP"], c["LDS.128"]) == (6, 2, 1, 1, 1), c
    assert abs(ceiling(c) - 2048 / 6 * SCHEDULER_ISSUE_RATE) < 1, ceiling(c)
    assert abs(FP32_PEAK / 1e12 - 66.9) < 0.05 and abs(ceiling({"instructions": 837, "FFMA": 512, "HMMA": 0}) / 1e12 - 40.9) < 0.05
    print("issue_slots self-test: passed")
    return 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    as_json = "--json" in argv
    dirs = [a for a in argv if not a.startswith("--")]
    if len(dirs) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rows = [r for p in sorted(pathlib.Path(dirs[0]).glob("*.sass")) if "@" in p.stem and (r := analyse(p))]
    print(json.dumps(rows, indent=1) if as_json else table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
