using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU.Runtime.Cuda;
using ILGpuDeconv.Diagnostics;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Kernels;

/// <summary>
/// Every GPU program compiles to PTX with ILGPU's CUDA backend, without a GPU, and uses no approximate
/// floating-point instruction: on CUDA those (<c>tanh.approx.f32</c>, <c>ex2.approx</c>, ...) made the tanh
/// family's gradients miss TensorFlow's values while the CPU accelerator, which runs .NET's math, could not
/// see it. Programs come from the library's own catalogue, which finds entry points by their signature.
/// </summary>
public sealed class PtxCompilationTests
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

    [Test]
    public void The_detector_finds_approximate_instructions()
    {
        // The check above is only as good as its pattern: it must see what ILGPU emits for MathF.
        var sample = new GpuProgramPtx("sample", "\ttanh.approx.f32 %f2, %f1;\n\tex2.approx.ftz.f32 %f3, %f2;\n\tdiv.rn.f32 %f4, %f3, %f2;\n\tsqrt.rn.f32 %f5, %f4;");
        Assert.That(sample.ApproximateInstructions, Is.EqualTo(new[] { "ex2.approx.ftz.f32", "tanh.approx.f32" }));
    }

    [Test]
    public void Every_program_family_and_activation_is_covered()
    {
        var names = PtxInspection.ProgramNames();
        string[] families =
        [
            "ForwardKernel.Run", "ActivationGradientKernel.Run", "InputGradientKernel.Run", "KernelGradientKernel.Run", "ReductionKernels.Finish",
            "WeightLayoutKernels.ForwardLayout", "WeightLayoutKernels.InputGradientLayout", "SoftmaxKernels.Forward", "SoftmaxKernels.Backward",
            "OptimizerKernels.Sgd", "OptimizerKernels.Adam", "ConstraintKernels.NonNeg", "ConstraintKernels.Norm",
        ];
        Assert.That(families.Where(f => !names.Any(n => n.StartsWith(f, StringComparison.Ordinal))), Is.Empty, "program families missing from the catalogue");
        Assert.That(names.Count(n => n.StartsWith("ForwardKernel.Run<", StringComparison.Ordinal)), Is.EqualTo(17), "one forward specialisation per built-in activation function");
    }
}
