using System.Collections.Generic;
using System.Linq;
using System;
using BenchmarkDotNet.Attributes;
using ILGpuDeconv.Bench.Peers;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Benchmarks;

/// <summary>
/// The BenchmarkDotNet suite: every selected shape, pass and implementation as one case
/// (<c>shape/pass/implementation</c>), with a GFLOP/s column and allocated memory.
/// </summary>
[MemoryDiagnoser]
public class Conv2DTransposeBenchmarks
{
    private IPassRunner? runner;
    private DeconvDevice? device;

    /// <summary>Gets or sets the selection, set by the <c>bench</c> command before the run (the run is in-process).</summary>
    public static BenchmarkSelection Selection { get; set; } = BenchmarkSelection.Default;

    /// <summary>Gets or sets the case: <c>shape/pass/implementation</c>, e.g. <c>A/forward/ilgpu-cpu</c>.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = string.Empty;

    /// <summary>Gets every valid case of the selection.</summary>
    public static IEnumerable<string> Cases() =>
        from shape in Selection.Shapes
        from pass in Selection.Passes
        from implementation in Selection.Implementations
        where !(implementation == "onnxruntime" && pass == ConvolutionPass.KernelGradient)
        select $"{shape.Name}/{Choices.NameOf(pass)}/{implementation}";

    /// <summary>Gets the work of one pass of a case, for the GFLOP/s column.</summary>
    public static double FlopsOf(string benchmarkCase) =>
        BenchmarkShape.Parse(benchmarkCase.Split('/')[0])[0].Flops;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Case.Split('/');
        var shape = BenchmarkShape.Parse(parts[0])[0];
        var pass = Choices.Pass(parts[1]);
        string implementation = parts[2];
        if (implementation.StartsWith("ilgpu-", StringComparison.Ordinal))
        {
            device = DeconvDevice.Create(DeconvDevice.ParseKind(implementation["ilgpu-".Length..]));
            runner = new IlgpuRunner(device, shape, pass);
            return;
        }

        (float[] Kernel, float[]? Bias) weights;
        using (var cpu = DeconvDevice.Create(AcceleratorKind.Cpu))
        using (var layer = new Conv2DTranspose(cpu, shape.Options))
        {
            layer.Build(shape.InChannels);
            weights = layer.GetWeights();
        }

        runner = implementation switch
        {
            "naive" => new PlainLoopRunner(shape, pass, weights.Kernel, weights.Bias),
#if CPU_PEERS
            "onnxruntime" => new OnnxRuntimeRunner(shape, pass, weights.Kernel, weights.Bias),
#endif
            _ => throw new ArgumentException($"unknown implementation '{implementation}'"),
        };
    }

    /// <summary>One pass, waited for.</summary>
    [Benchmark]
    public void Pass() => runner!.Run();

    [GlobalCleanup]
    public void Cleanup()
    {
        runner?.Dispose();
        device?.Dispose();
    }
}

/// <summary>What the suite measures.</summary>
public sealed record BenchmarkSelection(IReadOnlyList<BenchmarkShape> Shapes, IReadOnlyList<ConvolutionPass> Passes, IReadOnlyList<string> Implementations)
{
    public static BenchmarkSelection Default { get; } = new(
        BenchmarkShape.All.Where(s => !s.GpuScale && s.Groups == 1).ToList(),
        [ConvolutionPass.Forward, ConvolutionPass.InputGradient, ConvolutionPass.KernelGradient],
        ["ilgpu-cpu", "naive"]);
}
