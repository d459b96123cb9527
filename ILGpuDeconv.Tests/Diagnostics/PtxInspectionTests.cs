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
            Assert.That(vectorLoads, Is.EqualTo(8 * tileLoadsPerStep), "8 reduction steps per slice, written out");
            Assert.That(scalarLoads, Is.Zero);
        });
    }

    public static IEnumerable<TestCaseData> TensorCoreNames() =>
        PtxInspection.ProgramNames().Where(n => n.Contains("@TC", StringComparison.Ordinal)).Select(name => new TestCaseData(name).SetName($"PTX tensor cores: {name}"));

    [TestCaseSource(nameof(TensorCoreNames))]
    public void Tensor_core_loops_use_mma_and_global_loads_under_launch_bounds(string name)
    {
        // One TF32 mma per 16x8 tile of each warp's part of a slice, and no generic loads: compiled at O2, so that
        // ptxas keeps the inline PTX's operands in registers (the PTX report shows it with ptxas's spill counts).
        string ptx = PtxInspection.Compile(name, CudaArchitecture.SM_80, CudaInstructionSet.ISA_78).Ptx;
        int tiles = name.EndsWith("128x128", StringComparison.Ordinal) ? 16 : name.EndsWith("64x64", StringComparison.Ordinal) ? 4 : 8;
        Assert.Multiple(() =>
        {
            Assert.That(System.Text.RegularExpressions.Regex.Count(ptx, @"mma\.sync\.aligned\.m16n8k8\.row\.col\.f32\.tf32\.tf32\.f32"), Is.EqualTo(tiles));
            Assert.That(ptx, Does.Contain(".maxntid 256, 1, 1").And.Contain(".minnctapersm 2"));
            Assert.That(System.Text.RegularExpressions.Regex.Count(ptx, @"\bld\.f32\b|\bld\.v4\.f32\b"), Is.Zero, "generic loads (O1)");
            Assert.That(ptx, Does.Contain("ld.global"));
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
