using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using ILGpuDeconv.Bench.Benchmarks;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>Runs <c>cudnn_peer.py</c> (PyTorch/cuDNN, TF32 off and on) in the same command and reads its timings.</summary>
public static class CudnnPeer
{
    public static IReadOnlyList<QuickResult> Measure(IReadOnlyList<BenchmarkShape> shapes, IReadOnlyList<ConvolutionPass> passes, double minTime)
    {
        var specs = shapes.Select(s =>
        {
            var g = Conv2DTransposeGeometry.Create(s.Options, s.InputShape);
            return new { name = s.Name, n = s.Batch, h = s.Height, w = s.Width, cin = s.InChannels, cout = s.Filters, k = s.Kernel, s = s.Stride, oh = g.OutputHeight, ow = g.OutputWidth, crop = g.CropBegin.Height, groups = s.Groups };
        });
        string script = Path.Combine(AppContext.BaseDirectory, "Peers", "cudnn_peer.py");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("PYTHON") ?? "python3")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--shapes");
        start.ArgumentList.Add(JsonSerializer.Serialize(specs));
        start.ArgumentList.Add("--passes");
        start.ArgumentList.Add(string.Join(",", passes.Select(Choices.NameOf)));
        start.ArgumentList.Add("--min-time");
        start.ArgumentList.Add(minTime.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var results = new List<QuickResult>();
        try
        {
            using var process = Process.Start(start)!;
            string? line;
            while ((line = process.StandardOutput.ReadLine()) is not null)
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.TryGetProperty("error", out var error) || root.TryGetProperty("info", out error))
                {
                    Console.WriteLine($"cudnn peer: {error}");
                    continue;
                }

                var shape = shapes.Single(s => s.Name == root.GetProperty("shape").GetString());
                double ms = root.GetProperty("ms").GetDouble();
                var result = new QuickResult(shape.Name, root.GetProperty("pass").GetString()!, root.GetProperty("impl").GetString()!, "cuda", ms, shape.Flops / ms / 1e6);
                Console.WriteLine($"   {result.Pass,-11} {result.Implementation,-12} cuda    {ms,10:F3} ms {result.Gflops,9:F2} GFLOP/s  ({shape.Name})");
                results.Add(result);
            }

            process.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Console.WriteLine($"cudnn peer: cannot start python3 ({ex.Message})");
        }

        return results;
    }
}
