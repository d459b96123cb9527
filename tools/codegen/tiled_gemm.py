#!/usr/bin/env python3
"""Writes ILGpuDeconv/Programs/Tiled/TiledGemm.Generated.cs: the main loop of the tiled implicit-GEMM
programs, one method per block tile.

Why generated: ILGPU 1.5.3 does not unroll loops, and a local array stays in registers only when every
index is a constant. The register tile must therefore be scalar locals, and the eight steps of a
reduction slice written out; typing 64 accumulators and 512 multiply-adds by hand invites mistakes.

    python3 tools/codegen/tiled_gemm.py          # rewrites the file
    python3 tools/codegen/tiled_gemm.py --check  # exits 1 when the committed file is stale (CI runs this)
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "ILGpuDeconv" / "Programs" / "Tiled" / "TiledGemm.Generated.cs"

THREADS = 256  # 16 x 16 threads; each owns a (BM/16) x (BN/16) register tile
DEPTH = 8      # reduction depth of one slice
TILES = [(128, 128), (128, 64), (64, 128), (64, 64)]


def tile_method(bm, bn):
    tm, tn = bm // 16, bn // 16
    a_quads, b_quads = bm // 4, bn // 4  # Float4 per slice row of the A and B tiles
    a_per, b_per = bm * DEPTH // THREADS, bn * DEPTH // THREADS  # elements each thread stages
    buf_a, buf_b = DEPTH * a_quads, DEPTH * b_quads
    L = []
    w = L.append
    w(f"    /// <summary>The {bm}x{bn} block tile: each of the 256 threads accumulates a {tm}x{tn} register tile.</summary>")
    w("    /// <typeparam name=\"TProgram\">The operands and the store of the GEMM.</typeparam>")
    w("    /// <param name=\"program\">The program, by value.</param>")
    w(f"    public static void Run{bm}x{bn}<TProgram>(TProgram program)")
    w("        where TProgram : struct, ITiledProgram")
    w("    {")
    w(f"        // Two buffers of [slice row k][tile column / 4]: the next slice is staged while this one is used.")
    w(f"        var sharedA = SharedMemory.Allocate<Float4>({2 * buf_a});")
    w(f"        var sharedB = SharedMemory.Allocate<Float4>({2 * buf_b});")
    w("        int problem = Grid.IdxZ;")
    w(f"        int mBlock = Grid.IdxX * {bm};")
    w(f"        int nBlock = Grid.IdxY * {bn};")
    w("        int thread = Group.IdxX;")
    w("        int tx = thread & 15;")
    w("        int ty = thread >> 4;")
    w("")
    w("        // Staging: warp k loads slice row k, each thread a run of consecutive tile rows (columns).")
    w("        int kRow = thread >> 5;")
    w("        int lane = thread & 31;")
    w(f"        int mLoad = mBlock + (lane * {a_per});")
    w(f"        int nLoad = nBlock + (lane * {b_per});")
    w(f"        var gatherA = program.PrepareA(problem, mLoad, {a_per});")
    w(f"        var gatherB = program.PrepareB(problem, nLoad, {b_per});")
    w("        // A group past the problem's rows (problems differ in size) runs no slice and stores nothing; it does")
    w("        // not return early, since a return beside barriers hung PoCL.")
    w("        int slices = mBlock < program.Rows(problem) ? program.Slices(problem) : 0;")
    w("")
    for i in range(tm):
        w("        " + " ".join(f"float c{i}_{j} = 0f;" for j in range(tn)))
    w("")
    w("        Float4 nextA = default;")
    w("        Float4 nextB = default;")
    w("        if (slices > 0)")
    w("        {")
    w(f"            nextA = program.LoadA(gatherA, problem, 0, kRow, {a_per});")
    w(f"            nextB = program.LoadB(gatherB, problem, 0, kRow, {b_per});")
    w(f"            Stage(sharedA, kRow * {a_quads * 4} + (lane * {a_per}), nextA, {a_per});")
    w(f"            Stage(sharedB, kRow * {b_quads * 4} + (lane * {b_per}), nextB, {b_per});")
    w("        }")
    w("")
    w("        Group.Barrier();")
    w("        for (int slice = 0; slice < slices; slice++)")
    w("        {")
    w(f"            int current = (slice & 1) * {buf_a};")
    w(f"            int currentB = (slice & 1) * {buf_b};")
    w("            bool more = slice + 1 < slices;")
    w("            if (more)")
    w("            {")
    w(f"                nextA = program.LoadA(gatherA, problem, slice + 1, kRow, {a_per});")
    w(f"                nextB = program.LoadB(gatherB, problem, slice + 1, kRow, {b_per});")
    w("            }")
    w("")
    w("            // One sub-view per slice, indexed by constants: [register + immediate] shared addresses.")
    w(f"            var a = sharedA.SubView(current + ty, {buf_a} - ty);")
    w(f"            var b = sharedB.SubView(currentB + tx, {buf_b} - tx);")
    for k in range(DEPTH):
        w(f"            {{ // k = {k}")
        a_regs = []
        for h in range(tm // 4):
            w(f"                var a{h} = a[{k * a_quads + h * 16}];")
            a_regs += [f"a{h}.{c}" for c in "XYZW"]
        b_regs = []
        for h in range(tn // 4):
            w(f"                var b{h} = b[{k * b_quads + h * 16}];")
            b_regs += [f"b{h}.{c}" for c in "XYZW"]
        for i in range(tm):
            w("                " + " ".join(f"c{i}_{j} += {a_regs[i]} * {b_regs[j]};" for j in range(tn)))
        w("            }")
        w("")
    w("            if (more)")
    w("            {")
    w(f"                Stage(sharedA, (current ^ {buf_a}) * 4 + kRow * {a_quads * 4} + (lane * {a_per}), nextA, {a_per});")
    w(f"                Stage(sharedB, (currentB ^ {buf_b}) * 4 + kRow * {b_quads * 4} + (lane * {b_per}), nextB, {b_per});")
    w("            }")
    w("")
    w("            Group.Barrier();")
    w("        }")
    w("")
    w("        // Thread (tx, ty) holds rows ty*4 + 64*h + i and columns tx*4 + 64*g + j of the block tile.")
    for i in range(tm):
        row = f"mBlock + (ty * 4) + {(i // 4) * 64 + i % 4}"
        for g in range(tn // 4):
            vals = ", ".join(f"c{i}_{g * 4 + j}" for j in range(4))
            w(f"        program.Store(problem, {row}, nBlock + (tx * 4) + {g * 64}, new Float4({vals}));")
    w("    }")
    return "\n".join(L)


def main():
    header = '''// <auto-generated>
// Written by tools/codegen/tiled_gemm.py; edit the script, not this file.
// </auto-generated>
#pragma warning disable SA1025, SA1107, SA1501, SA1503, IDE0055 // generated layout: several statements per line
using ILGPU;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// The main loops of the tiled programs: a block tile of outputs per group of 256 threads, the reduction in
/// slices of 8 staged through double-buffered shared memory, a register tile per thread read from shared
/// memory with 128-bit loads. One method per block tile; <see cref="TileShape"/> names them.
/// </summary>
internal static partial class TiledGemm
{
'''
    body = "\n\n".join(tile_method(bm, bn) for bm, bn in TILES)
    text = header + body + "\n}\n"
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python3 tools/codegen/tiled_gemm.py", file=sys.stderr)
            sys.exit(1)
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
