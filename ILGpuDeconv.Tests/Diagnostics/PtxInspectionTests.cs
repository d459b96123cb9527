using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU.Runtime.Cuda;
using ILGpuDeconv.Programs;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Diagnostics;

/// <summary>
/// Every GPU program compiles to PTX with ILGPU's CUDA backend, without a GPU, and uses no approximate
/// floating-point instruction: on CUDA those (<c>tanh.approx.f32</c>, <c>ex2.approx</c>, ...) made the tanh
/// family's gradients miss TensorFlow's values while the CPU accelerator, which runs .NET's math, could not
/// see it. Programs come from the library's own catalogue, which finds entry points by their signature.
/// </summary>
public sealed class PtxInspectionTests
{
    /// <summary>
    /// Approximate instructions a program may use, with the reason they are exact enough there. Empty: every
    /// program builds its transcendental functions from IEEE-rounded operations (<c>DeviceMath</c>).
    /// </summary>
    private static readonly Dictionary<string, (string Instruction, string Why)[]> Allowed = [];

    public static IEnumerable<TestCaseData> Programs() =>
        PtxInspection.ProgramNames().Select(name => new TestCaseData(name).SetName($"PTX sm_80: {name}"));

    [TestCaseSource(nameof(Programs))]
    public void Compiles_to_PTX_without_approximate_instructions(string name)
    {
        var program = PtxInspection.Compile(name, CudaArchitecture.SM_80, CudaInstructionSet.ISA_80);
        Assert.That(program.Ptx, Does.Contain(".target sm_80").And.Contain(".entry"));
        var allowed = Allowed.TryGetValue(name, out var entries) ? entries.Select(e => e.Instruction).ToHashSet(StringComparer.Ordinal) : [];
        Assert.That(program.ApproximateInstructions.Where(i => !allowed.Contains(i)), Is.Empty, $"{name} uses approximate instructions");
    }

    public static IEnumerable<TestCaseData> TiledNames() =>
        PtxInspection.ProgramNames().Where(n => n.Contains('@', StringComparison.Ordinal) && !n.Contains("@TC", StringComparison.Ordinal)
            && (n.Contains("Linear", StringComparison.Ordinal) || !n.StartsWith("Forward", StringComparison.Ordinal)))
            .Select(name => new TestCaseData(name).SetName($"PTX tiled: {name}"));

    [TestCaseSource(nameof(TiledNames))]
    public void Tiled_programs_read_shared_memory_128_bits_at_a_time_under_launch_bounds(string name)
    {
        // The register tile is fed from shared memory by 16-byte loads only, and ptxas is told 256 threads
        // and two groups per multiprocessor (without them it took 138 registers for a 128x128 tile).
        string ptx = PtxInspection.Compile(name, CudaArchitecture.SM_80, CudaInstructionSet.ISA_78).Ptx;
        int vectorLoads = System.Text.RegularExpressions.Regex.Count(ptx, @"ld\.shared\.v4\.f32");
        int scalarLoads = System.Text.RegularExpressions.Regex.Count(ptx, @"ld\.shared\.f32");
        int tileLoadsPerStep = name.EndsWith("128x128", StringComparison.Ordinal) ? 4 : name.EndsWith("64x64", StringComparison.Ordinal) ? 2 : 3;
        Assert.Multiple(() =>
        {
            Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
            Assert.That(vectorLoads, Is.EqualTo(16 * tileLoadsPerStep), "16 reduction steps per slice, written out");
            Assert.That(scalarLoads, Is.Zero);
        });
    }

    /// <summary>
    /// The tensor-core loops of the linear forward program and of the gradients: an activation changes only the store
    /// after the loop, and every activation's tensor-core program is compiled by the sm_80 test above.
    /// </summary>
    public static IEnumerable<TestCaseData> TensorCoreNames() =>
        PtxInspection.ProgramNames().Where(n => n.Contains("@TC", StringComparison.Ordinal)
            && (n.Contains("Linear", StringComparison.Ordinal) || !n.StartsWith("Forward", StringComparison.Ordinal)))
            .Select(name => new TestCaseData(name).SetName($"PTX tensor cores: {name}"));

    [TestCaseSource(nameof(TensorCoreNames))]
    public void Tensor_core_loops_use_mma_and_global_loads_under_launch_bounds(string name)
    {
        // One TF32 mma per 16x8 tile of each warp's part of a half slice, twice per slice, and no generic loads:
        // compiled at O2, so that ptxas keeps the inline PTX's operands in registers (the PTX report shows it with
        // ptxas's spill counts).
        string ptx = PtxInspection.Compile(name, CudaArchitecture.SM_80, CudaInstructionSet.ISA_78).Ptx;
        int tiles = 2 * (name.EndsWith("128x128", StringComparison.Ordinal) ? 16 : name.EndsWith("64x64", StringComparison.Ordinal) ? 4 : 8);
        Assert.Multiple(() =>
        {
            Assert.That(System.Text.RegularExpressions.Regex.Count(ptx, @"mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32"), Is.EqualTo(tiles));
            Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
            Assert.That(System.Text.RegularExpressions.Regex.Count(ptx, @"\bld\.f32\b|\bld\.v4\.f32\b"), Is.Zero, "generic loads (O1)");
            Assert.That(ptx, Does.Contain("ld.global"));
        });
    }

    public static IEnumerable<TestCaseData> MainLoopNames() =>
        PtxInspection.ProgramNames().Where(n => n.Contains("TiledProgram", StringComparison.Ordinal) && n.Contains("Linear", StringComparison.Ordinal) == n.StartsWith("Forward", StringComparison.Ordinal))
            .Select(name => new TestCaseData(name).SetName($"PTX main loop: {name}"));

    /// <summary>
    /// A tiled program's main loop (in the PTX's control-flow graph, the innermost natural loop with the most
    /// multiplications or mma steps) divides nothing: every division of the walk over the slices happens before it
    /// (ITiledProgram.Start). An integer division is a sequence of about 20 instructions on the GPU (tools/gpu/issue_slots.py
    /// counts MUFU.RCP in the SASS); this finds one in the PTX, without NVIDIA's tools.
    /// </summary>
    [TestCaseSource(nameof(MainLoopNames))]
    public void Tiled_main_loops_divide_nothing(string name)
    {
        var loop = PtxMainLoop.Of(PtxInspection.Compile(name, CudaArchitecture.SM_80, CudaInstructionSet.ISA_78).Ptx);
        var divisions = loop.Lines.Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\b(div|rem)\.[su]\d+")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(loop.Math, Is.GreaterThan(0), "a main loop with multiplications or mma steps");
            Assert.That(divisions, Is.Empty, "integer divisions in the main loop");
        });
    }

    [Test]
    public void The_main_loop_finder_sees_a_division_in_a_loop_and_not_before_it()
    {
        const string Ptx = """
            div.s32 %r1, %r2, %r3;
            L_head:
            mul.f32 %f1, %f2, %f3;
            @%p1 bra L_other;
            rem.s32 %r4, %r5, %r6;
            L_other:
            add.f32 %f4, %f1, %f1;
            @%p2 bra L_head;
            ret;
            """;
        var loop = PtxMainLoop.Of(Ptx);
        Assert.Multiple(() =>
        {
            Assert.That(loop.Math, Is.EqualTo(1));
            Assert.That(loop.Lines.Count(l => l.Contains("rem.s32", StringComparison.Ordinal)), Is.EqualTo(1), "the branch inside the loop body");
            Assert.That(loop.Lines.Any(l => l.Contains("div.s32", StringComparison.Ordinal)), Is.False, "before the loop");
        });
    }

    [Test]
    public void The_detector_finds_approximate_instructions()
    {
        // The check above is only as good as its pattern: it must see what ILGPU emits for MathF.
        var sample = new GpuProgramPtx("sample", "\ttanh.approx.f32 %f2, %f1;\n\tex2.approx.ftz.f32 %f3, %f2;\n\tdiv.rn.f32 %f4, %f3, %f2;\n\tsqrt.rn.f32 %f5, %f4;");
        Assert.That(sample.ApproximateInstructions, Is.EqualTo(new[] { "ex2.approx.ftz.f32", "tanh.approx.f32" }));
    }

    [Test]
    public void Every_program_type_is_compiled_with_every_activation()
    {
        // Independently of the catalogue: every struct of the library that implements IGpuProgram.
        var programTypes = typeof(IGpuProgram).Assembly.GetTypes()
            .Where(t => t.IsValueType && typeof(IGpuProgram).IsAssignableFrom(t))
            .Select(t => t.Name.Split('`')[0])
            .ToList();
        var names = PtxInspection.ProgramNames();
        Assert.That(programTypes, Has.Count.GreaterThanOrEqualTo(13), "forward, gradients, finish, layouts, softmax, optimizers, constraints");
        Assert.That(programTypes.Where(t => !names.Any(n => n == t || n.StartsWith(t + "<", StringComparison.Ordinal))), Is.Empty, "programs missing from the catalogue");
        int activations = typeof(IActivationFunction).Assembly.GetTypes().Count(t => t.IsValueType && typeof(IActivationFunction).IsAssignableFrom(t));
        Assert.That(names.Count(n => n.StartsWith("ForwardProgram<", StringComparison.Ordinal)), Is.EqualTo(activations), "one forward specialisation per built-in activation function");
    }
}

/// <summary>
/// The main loop of a PTX function: its basic blocks (split at labels and after branches), their successors, the
/// natural loop of each back edge (an edge to a block that dominates its source), and of the innermost loops the one
/// with the most multiplications or mma steps.
/// </summary>
internal static class PtxMainLoop
{
    public static (IReadOnlyList<string> Lines, int Math) Of(string ptx)
    {
        var blocks = new List<(string? Label, List<string> Lines)>();
        foreach (string raw in ptx.Split('\n'))
        {
            string line = raw.Trim();
            var label = System.Text.RegularExpressions.Regex.Match(line, @"^([A-Za-z_$][\w$]*):$");
            if (label.Success || blocks.Count == 0)
            {
                blocks.Add((label.Success ? label.Groups[1].Value : null, []));
                if (label.Success)
                {
                    continue;
                }
            }

            blocks[^1].Lines.Add(line);
            if (System.Text.RegularExpressions.Regex.IsMatch(line, @"\bbra(\.uni)?\s|^ret;|^exit;"))
            {
                blocks.Add((null, []));
            }
        }

        int n = blocks.Count;
        var index = blocks.Select((b, i) => (b.Label, i)).Where(x => x.Label is not null).ToDictionary(x => x.Label!, x => x.i, StringComparer.Ordinal);
        var successors = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            successors[i] = [];
            string last = blocks[i].Lines.LastOrDefault(l => l.Length > 0) ?? string.Empty;
            var branch = System.Text.RegularExpressions.Regex.Match(last, @"^(@!?%p\d+\s+)?bra(\.uni)?\s+([A-Za-z_$][\w$]*);");
            if (branch.Success)
            {
                successors[i].Add(index[branch.Groups[3].Value]);
            }

            bool falls = !last.StartsWith("ret", StringComparison.Ordinal) && !last.StartsWith("exit", StringComparison.Ordinal) && !(branch.Success && branch.Groups[1].Length == 0);
            if (falls && i + 1 < n)
            {
                successors[i].Add(i + 1);
            }
        }

        // Immediate dominators (Cooper, Harvey and Kennedy's iteration over the reverse postorder from block 0).
        var predecessors = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            predecessors[i] = [];
        }

        for (int i = 0; i < n; i++)
        {
            foreach (int s in successors[i])
            {
                predecessors[s].Add(i);
            }
        }

        var order = new List<int>();
        var seen = new bool[n];
        var stack = new Stack<(int Block, int Next)>([(0, 0)]);
        seen[0] = true;
        while (stack.Count > 0)
        {
            var (block, next) = stack.Pop();
            if (next < successors[block].Count)
            {
                stack.Push((block, next + 1));
                int s = successors[block][next];
                if (!seen[s])
                {
                    seen[s] = true;
                    stack.Push((s, 0));
                }
            }
            else
            {
                order.Add(block);
            }
        }

        order.Reverse();
        var rank = new int[n];
        for (int i = 0; i < order.Count; i++)
        {
            rank[order[i]] = i;
        }

        var idom = Enumerable.Repeat(-1, n).ToArray();
        idom[0] = 0;
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (int b in order.Skip(1))
            {
                int found = -1;
                foreach (int p in predecessors[b].Where(p => idom[p] >= 0))
                {
                    found = found < 0 ? p : Meet(p, found);
                }

                if (found >= 0 && idom[b] != found)
                {
                    idom[b] = found;
                    changed = true;
                }
            }
        }

        int Meet(int a, int b)
        {
            while (a != b)
            {
                while (rank[a] > rank[b])
                {
                    a = idom[a];
                }

                while (rank[b] > rank[a])
                {
                    b = idom[b];
                }
            }

            return a;
        }

        bool Dominates(int h, int u)
        {
            if (!seen[u])
            {
                return false;
            }

            for (int x = u; ; x = idom[x])
            {
                if (x == h)
                {
                    return true;
                }

                if (x == 0)
                {
                    return false;
                }
            }
        }

        var loops = new List<(int Header, HashSet<int> Body)>();
        for (int u = 0; u < n; u++)
        {
            foreach (int h in successors[u].Where(h => Dominates(h, u)))
            {
                var body = new HashSet<int> { h, u };
                var work = new Stack<int>([u]);
                while (work.Count > 0)
                {
                    foreach (int p in predecessors[work.Pop()].Where(p => body.Add(p)))
                    {
                        work.Push(p);
                    }
                }

                loops.Add((h, body));
            }
        }

        static int Math(IEnumerable<string> lines) => lines.Count(l => l.Contains("mul.f32", StringComparison.Ordinal) || l.Contains("fma.rn.f32", StringComparison.Ordinal) || l.Contains("mma.sync", StringComparison.Ordinal));
        var innermost = loops.Where(l => !loops.Any(o => o.Header != l.Header && l.Body.Contains(o.Header))).ToList();
        if (innermost.Count == 0)
        {
            return ([], 0);
        }

        var main = innermost.MaxBy(l => Math(l.Body.SelectMany(b => blocks[b].Lines)));
        var lines = main.Body.Order().SelectMany(b => blocks[b].Lines).ToList();
        return (lines, Math(lines));
    }
}
