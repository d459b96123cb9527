using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System;
using ILGpuDeconv.Bench.Benchmarks;
using ILGpuDeconv.Bench.Peers;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Commands;

/// <summary>
/// <c>quick</c>: every implementation side by side on the benchmark shapes, timed with a stopwatch (the
/// minimum of several runs after warm-up), printed as a table with ratios and optionally written as JSON.
/// </summary>
internal static class QuickCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static int Run(Arguments args)
    {
        var kinds = Choices.Accelerators(args.Value("accelerator"));
        bool gpu = kinds.Contains(AcceleratorKind.Cuda);
        var shapes = args.Value("shapes") is { } list
            ? BenchmarkShape.Parse(list)
            : BenchmarkShape.All.Where(s => (!s.GpuScale || gpu) && s.Groups == 1).ToList();
        var passes = Choices.Passes(args.Value("passes"));
        var peers = (args.Value("peers") ?? (gpu ? "naive,onnxruntime,cudnn" : "naive,onnxruntime")).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        double minTime = double.Parse(args.Value("min-time") ?? "0.3", CultureInfo.InvariantCulture);
        double warmUp = double.Parse(args.Value("warm-up") ?? "1", CultureInfo.InvariantCulture);
        bool hostOnGpuShapes = args.Flag("host-on-gpu-shapes");

        // --algorithms auto,direct,tiled,tuned: one device per accelerator and algorithm, measured side by side.
        var algorithms = Choices.Algorithms(args.Value("algorithms"));
        // --precisions fp32,tf32: each ILGpuDeconv runner in each precision (both by default on CUDA, beside cuDNN's two).
        var precisions = Choices.Precisions(args.Value("precisions") ?? (gpu ? "fp32,tf32" : "fp32"));
        var devices = new List<DeconvDevice>();
        foreach (var k in kinds)
        {
            foreach (var algorithm in algorithms)
            {
                var device = DeconvDevice.Create(k);
                try
                {
                    device.Algorithm = algorithm;
                    devices.Add(device);
                }
                catch (NotSupportedException e)
                {
                    Console.WriteLine($"skipped {k} with {algorithm}: {e.Message}");
                    device.Dispose();
                }
            }
        }

        // --tuning-file FILE: the tuned device's measured routes, loaded before and saved after (one tuned device).
        string? tuningFile = args.Value("tuning-file");
        var tuned = devices.Where(d => d.Algorithm == ConvolutionAlgorithm.Tuned).ToList();
        if (tuningFile is not null && tuned.Count != 1)
        {
            foreach (var device in devices)
            {
                device.Dispose();
            }

            throw new ArgumentException($"--tuning-file needs exactly one accelerator with --algorithms tuned, not {tuned.Count}");
        }

        try
        {
            if (tuningFile is not null)
            {
                TuningFile.Load(tuned[0], tuningFile, Console.Out);
            }

            Console.WriteLine($"quick: shapes {string.Join(",", shapes.Select(s => s.Name))}; passes {string.Join(",", passes.Select(Choices.NameOf))}; " +
                $"accelerators {string.Join(", ", devices.Select(d => $"{d.Kind} ({d.Info.Name})"))}; peers {string.Join(",", peers)}");
            Console.WriteLine($"timing: the minimum over repeated runs after {warmUp} s of warm-up runs (two at least); results checked against the plain loop where both ran");
            var results = new List<QuickResult>();
            foreach (var shape in shapes)
            {
                Console.WriteLine($"-- {shape} ({shape.Flops / 1e9:F2} GFLOP per pass)");
                foreach (var pass in passes)
                {
                    results.AddRange(MeasureShapePass(shape, pass, devices, precisions, peers, minTime, warmUp, hostOnGpuShapes));
                }
            }

            if (peers.Contains("cudnn") && gpu)
            {
                results.AddRange(CudnnPeer.Measure(shapes.Where(s => s.GpuScale || s.Groups > 1 || shapes.Count <= 4).ToList(), passes, minTime));
            }

            PrintTable(results);
            if (tuningFile is not null)
            {
                TuningFile.Save(tuned[0], tuningFile, Console.Out);
            }

            if (args.Value("json") is { } path)
            {
                WriteJson(path, devices, results, args);
                Console.WriteLine($"wrote {path}");
            }

            if (args.Value("markdown") is { } markdown)
            {
                File.WriteAllText(markdown, SummaryTable(results));
                Console.WriteLine($"wrote {markdown}");
            }

            return 0;
        }
        finally
        {
            foreach (var device in devices)
            {
                device.Dispose();
            }
        }
    }

    private static IEnumerable<QuickResult> MeasureShapePass(
        BenchmarkShape shape, ConvolutionPass pass, List<DeconvDevice> devices, IReadOnlyList<ConvolutionPrecision> precisions, HashSet<string> peers, double minTime, double warmUp, bool hostOnGpuShapes)
    {
        var runners = new List<IPassRunner>();
        try
        {
            (float[] Kernel, float[]? Bias)? weights = null;
            foreach (var device in devices)
            {
                if (shape.GpuScale && device.Kind == AcceleratorKind.Cpu && !hostOnGpuShapes)
                {
                    continue;
                }

                foreach (var precision in precisions)
                {
                    var runner = new IlgpuRunner(device, shape, pass, precision);
                    weights ??= runner.Weights;
                    runners.Add(runner);
                }
            }

            if (!shape.GpuScale || hostOnGpuShapes)
            {
                weights ??= WeightsOf(shape);
                if (peers.Contains("naive"))
                {
                    runners.Add(new PlainLoopRunner(shape, pass, weights.Value.Kernel, weights.Value.Bias));
                }
#if CPU_PEERS
                if (peers.Contains("onnxruntime") && pass != ConvolutionPass.KernelGradient && shape.Groups == 1) // the ONNX peer's model has no group attribute
                {
                    runners.Add(new OnnxRuntimeRunner(shape, pass, weights.Value.Kernel, weights.Value.Bias));
                }
#endif
            }

            float[]? reference = null;
            foreach (var runner in runners.OrderBy(r => r.Implementation == "naive" ? 0 : 1))
            {
                double ms = Time(runner, minTime, warmUp);
                var result = new QuickResult(shape.Name, Choices.NameOf(pass), runner.Implementation, runner.Accelerator, ms, shape.Flops / ms / 1e6);
                string check = string.Empty;
                if (runner.Implementation == "naive")
                {
                    reference = runner.Result();
                }
                else if (runner.Implementation.EndsWith("_tf32", StringComparison.Ordinal))
                {
                    check = "  (TF32: its error against float32 is tested by the test suite, not bounded here)";
                }
                else if (reference is not null)
                {
                    check = $"  check vs naive: {Check(runner.Result(), reference)}";
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"   {Choices.NameOf(pass),-11} {runner.Implementation,-12} {runner.Accelerator,-7} {ms,10:F3} ms {result.Gflops,9:F2} GFLOP/s{check}"));
                if (runner is IlgpuRunner { Route: { } route })
                {
                    Console.WriteLine($"      route: {route}");
                }

                yield return result;
            }
        }
        finally
        {
            foreach (var runner in runners)
            {
                runner.Dispose();
            }
        }
    }

    /// <summary>The largest error relative to <c>1e-3 + 1e-3 * |b|</c>: float sums in different orders differ by far less.</summary>
    private static string Check(float[] actual, float[] expected)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / (1e-3 + (1e-3 * Math.Abs(expected[i]))));
        }

        return worst <= 1 ? string.Create(CultureInfo.InvariantCulture, $"ok ({worst:F3} of 1e-3 + 1e-3|b|)") : string.Create(CultureInfo.InvariantCulture, $"MISMATCH ({worst:G3} of 1e-3 + 1e-3|b|)");
    }

    private static (float[] Kernel, float[]? Bias) WeightsOf(BenchmarkShape shape)
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var layer = new Conv2DTranspose(device, shape.Options);
        layer.Build(shape.InChannels);
        return layer.GetWeights();
    }

    /// <summary>
    /// Warm-up runs for <paramref name="warmUp"/> seconds (two at least), then runs until <paramref name="minTime"/>
    /// seconds and at least three runs; the minimum, in ms. The warm-up is timed, not counted: .NET's tiered JIT
    /// optimizes the programs ILGPU's CPU accelerator runs (and the plain loop) in the background after their first
    /// calls, which took up to a second here and longer beside a busy process; before that they run up to 10x slower.
    /// </summary>
    internal static double Time(IPassRunner runner, double minTime, double warmUp = 0)
    {
        var warming = Stopwatch.StartNew();
        for (int i = 0; i < 2 || warming.Elapsed.TotalSeconds < warmUp; i++)
        {
            runner.Run();
        }

        var total = Stopwatch.StartNew();
        var clock = new Stopwatch();
        double best = double.MaxValue;
        int runs = 0;
        while (runs < 3 || (total.Elapsed.TotalSeconds < minTime && runs < 200))
        {
            clock.Restart();
            runner.Run();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
            runs++;
        }

        return best;
    }

    private static void PrintTable(List<QuickResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("| shape | pass | impl | accelerator | ms | GFLOP/s | vs naive | vs onnxruntime | vs cudnn_fp32 | vs cudnn_tf32 |");
        Console.WriteLine("|---|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            string Ratio(string impl)
            {
                var peer = results.FirstOrDefault(x => x.Shape == r.Shape && x.Pass == r.Pass && x.Implementation == impl);
                return peer is null || peer.Implementation == r.Implementation ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"{peer.Ms / r.Ms:F2}x");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Shape} | {r.Pass} | {r.Implementation} | {r.Accelerator} | {r.Ms:F3} | {r.Gflops:F2} | {Ratio("naive")} | {Ratio("onnxruntime")} | {Ratio("cudnn_fp32")} | {Ratio("cudnn_tf32")} |"));
        }

        Console.WriteLine("(a ratio is the peer's time divided by this row's: above 1x, this row is faster)");
    }

    /// <summary>One row per shape and pass: every implementation's GFLOP/s, ILGPU's ratios to the plain loop and ONNX Runtime.</summary>
    private static string SummaryTable(List<QuickResult> results)
    {
        var columns = results.Select(r => (r.Implementation, r.Accelerator)).Distinct().ToList();
        var ilgpu = columns.Where(c => c.Implementation.StartsWith("ilgpu", StringComparison.Ordinal)).ToList();
        var text = new System.Text.StringBuilder();
        text.Append("| shape | pass |");
        foreach (var (implementation, accelerator) in columns)
        {
            text.Append(CultureInfo.InvariantCulture, $" {implementation} ({accelerator}) GFLOP/s |");
        }

        foreach (var (implementation, accelerator) in ilgpu)
        {
            text.Append(CultureInfo.InvariantCulture, $" {implementation} ({accelerator}) vs naive | {implementation} ({accelerator}) vs onnxruntime |");
        }

        text.AppendLine();
        text.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---:|", columns.Count + (2 * ilgpu.Count)))).AppendLine();
        foreach (var (shape, pass) in results.Select(r => (r.Shape, r.Pass)).Distinct())
        {
            QuickResult? Find(string implementation, string accelerator) =>
                results.FirstOrDefault(r => r.Shape == shape && r.Pass == pass && r.Implementation == implementation && r.Accelerator == accelerator);
            text.Append(CultureInfo.InvariantCulture, $"| {shape} | {pass} |");
            foreach (var (implementation, accelerator) in columns)
            {
                text.Append(Find(implementation, accelerator) is { } r ? string.Create(CultureInfo.InvariantCulture, $" {r.Gflops:F2} |") : " – |");
            }

            foreach (var (implementation, accelerator) in ilgpu)
            {
                var ours = Find(implementation, accelerator);
                foreach (string peer in new[] { "naive", "onnxruntime" })
                {
                    var other = Find(peer, "host");
                    text.Append(ours is not null && other is not null ? string.Create(CultureInfo.InvariantCulture, $" {other.Ms / ours.Ms:F2}x |") : " – |");
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static void WriteJson(string path, List<DeconvDevice> devices, List<QuickResult> results, Arguments args)
    {
        var machine = new Dictionary<string, object?>
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["cpu"] = CpuName(),
            ["cores"] = Environment.ProcessorCount,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["ilgpu"] = typeof(ILGPU.Context).Assembly.GetName().Version?.ToString(),
            ["accelerators"] = devices.Select(d => d.Info.ToString()).ToList(),
            ["command"] = "ILGpuDeconv.Bench " + string.Join(" ", args.Raw),
        };
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, JsonSerializer.Serialize(new { machine, results }, Indented));
    }

    private static string CpuName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
