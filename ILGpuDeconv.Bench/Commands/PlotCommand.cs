#if CPU_PEERS
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System;
using ILGpuDeconv.Bench.Benchmarks;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Commands;

/// <summary><c>plot --json FILE --out PNG</c>: a grouped bar chart of throughput from a <c>quick --json</c> file.</summary>
internal static class PlotCommand
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true };

    private static string Short(string pass) => pass switch
    {
        "forward" => "fwd",
        "input_grad" => "dx",
        _ => "dW",
    };

    public static int Run(Arguments args)
    {
        string input = args.Required("json");
        string output = args.Value("out") ?? Path.ChangeExtension(input, ".png");
        using var document = JsonDocument.Parse(File.ReadAllText(input));
        var results = document.RootElement.GetProperty("results").Deserialize<List<QuickResult>>(Options)!;
        string machine = document.RootElement.TryGetProperty("machine", out var m) && m.TryGetProperty("cpu", out var cpu) ? cpu.GetString() ?? string.Empty : string.Empty;
        string date = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("date", out var d) ? d.GetString() ?? string.Empty : string.Empty;

        var groups = results.Select(r => (r.Shape, r.Pass)).Distinct().ToList();
        var series = results.Select(r => $"{r.Implementation} ({r.Accelerator})").Distinct().ToList();
        var palette = new ScottPlot.Palettes.Category10();
        using var plot = new ScottPlot.Plot();
        double width = 0.8 / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            var bars = new List<ScottPlot.Bar>();
            for (int g = 0; g < groups.Count; g++)
            {
                var hit = results.FirstOrDefault(r => r.Shape == groups[g].Shape && r.Pass == groups[g].Pass && $"{r.Implementation} ({r.Accelerator})" == series[s]);
                if (hit is not null)
                {
                    bars.Add(new ScottPlot.Bar { Position = g + ((s - ((series.Count - 1) / 2.0)) * width), Value = hit.Gflops, Size = width * 0.95, FillColor = palette.GetColor(s) });
                }
            }

            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = series[s];
        }

        plot.Axes.Bottom.SetTicks(
            Enumerable.Range(0, groups.Count).Select(g => (double)g).ToArray(),
            groups.Select(g => $"{g.Shape} {Short(g.Pass)}").ToArray());
        plot.Axes.Bottom.Label.Text = "shape and pass (fwd: forward, dx: input gradient, dW: kernel and bias gradient)";
        plot.Axes.Left.Label.Text = "GFLOP/s (higher is better)";
        plot.Axes.SetLimitsY(0, results.Max(r => r.Gflops) * 1.1);
        plot.Title($"Conv2DTranspose throughput, float32 ({machine}, {date})");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(output));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        plot.SavePng(output, Math.Max(900, 60 * groups.Count), 560);
        Console.WriteLine($"wrote {output}");
        return 0;
    }
}
#endif
