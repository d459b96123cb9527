using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Tool.Commands;

/// <summary>
/// <c>verify --cases FILE [--algorithm NAME] [--tuning-file FILE] [--weights FILE [--layout keras|pytorch]]</c>: runs a
/// conformance file through the layer.
/// </summary>
internal static class VerifyCommand
{
    public static int Run(Arguments args)
    {
        string path = args.Required("cases");
        bool forwardOnly = args.Flag("forward-only");
        bool details = args.Flag("details");
        string? weights = args.Value("weights");
        var layout = (args.Value("layout") ?? "keras").ToUpperInvariant() switch
        {
            "KERAS" => WeightLayout.Keras,
            "PYTORCH" => WeightLayout.PyTorch,
            _ => throw new ArgumentException("--layout takes keras or pytorch"),
        };
        var cases = ConformanceCase.Load(path);
        var algorithms = Choices.Algorithms(args.Value("algorithm"));
        if (algorithms.Count != 1)
        {
            throw new ArgumentException("--algorithm takes one of auto, direct, tiled, tuned");
        }

        using var device = args.CreateDevice();
        device.Algorithm = algorithms[0];
        string? tuningFile = args.Value("tuning-file");
        Console.WriteLine($"verify: {cases.Count} case(s) from {path} on {device.Info.Kind}: {device.Info.Name}, algorithm {Choices.NameOf(device.Algorithm)}");
        TuningFile.Load(device, tuningFile, Console.Out);
        Console.WriteLine($"checking: output shape and values{(forwardOnly ? " (forward only)" : ", grad_input, grad_kernel, grad_bias of sum(output * upstream)")}");
        Console.WriteLine($"tolerance: {ConformanceRunner.ToleranceRule}");
        if (weights is not null)
        {
            Console.WriteLine($"weights: from {weights} ({layout} layout), not the cases' own");
        }
        int passed = 0, failed = 0;
        double worstRatio = 0;
        var clock = Stopwatch.StartNew();
        foreach (var c in cases)
        {
            var result = ConformanceRunner.Run(device, c, forwardOnly, weights, layout);
            if (details)
            {
                Console.WriteLine($"case {c.Id} routes: {string.Join("; ", result.Routes)}");
            }

            worstRatio = Math.Max(worstRatio, result.Checks.Where(k => !double.IsNaN(k.WorstRatio)).Select(k => k.WorstRatio).DefaultIfEmpty(0).Max());
            if (details)
            {
                Console.WriteLine($"case {c.Id}: {string.Join("; ", result.Checks)}");
            }

            if (result.Passed)
            {
                passed++;
                continue;
            }

            failed++;
            foreach (var check in result.Checks.Where(k => !k.Passed))
            {
                Console.WriteLine($"FAIL case {c.Id} {check.Tensor}: {check}   [{c.Describe()}]");
            }
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"worst error over all checked values: {worstRatio:F3} of tolerance; {clock.Elapsed.TotalSeconds:F1} s"));
        TuningFile.Save(device, tuningFile, Console.Out);
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }
}
