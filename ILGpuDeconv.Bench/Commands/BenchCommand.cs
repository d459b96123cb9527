using System.Linq;
using System;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ILGpuDeconv.Bench.Benchmarks;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Commands;

/// <summary>
/// <c>bench</c>: the BenchmarkDotNet suite, run in-process so that a machine with only the .NET runtime
/// (no SDK), such as the GPU machine, can run it.
/// </summary>
internal static class BenchCommand
{
    public static int Run(Arguments args)
    {
        var shapes = BenchmarkShape.Parse(args.Value("shapes") ?? "A,B,C,D");
        var passes = Choices.Passes(args.Value("passes")).ToList();
        var present = DeconvDevice.ListAccelerators().Select(i => i.Kind).ToHashSet();
        var implementations = Choices.Accelerators(args.Value("accelerator") ?? "cpu")
            .Where(present.Contains)
            .Select(kind => "ilgpu-" + Choices.NameOf(kind))
            .Concat((args.Value("peers") ?? "naive,onnxruntime").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        Conv2DTransposeBenchmarks.Selection = new BenchmarkSelection(shapes, passes, implementations);

        var job = (args.Value("job") == "default" ? Job.Default : Job.ShortRun)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("InProcess");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(new GflopsColumn())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<Conv2DTransposeBenchmarks>(config);
        return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
    }
}
