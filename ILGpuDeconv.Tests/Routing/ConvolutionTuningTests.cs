using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Tests.Golden;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Routing;

/// <summary>
/// <see cref="ConvolutionAlgorithm.Tuned"/>: each key measured once and kept, the table saved and loaded (the next
/// device takes the same routes, bit for bit), corrupt and foreign files ignored with a warning, and every candidate
/// route correct on the golden files.
/// </summary>
public sealed class ConvolutionTuningTests
{
    private static IEnumerable<AcceleratorKind> Kinds => TestAccelerators.Tested;

    private static readonly Conv2DTransposeOptions Options = new(12, 3) { Strides = 2, Padding = Padding.Same, Activation = Activation.Tanh };
    private static readonly TensorShape Input = new(2, 6, 6, 8);

    public static IEnumerable<TestCaseData> GoldenCases() => GoldenCaseTests.CasesFor("TunedGolden");

    [Test]
    public void Each_key_is_measured_once_and_its_fastest_route_kept([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        using var owned = TestAccelerators.CreateTiled(kind);
        var device = owned.Device;
        device.Algorithm = ConvolutionAlgorithm.Tuned;
        device.Tuning.Repeats = 2;
        using var layer = new Conv2DTranspose(device, Options);
        var (x, dy) = Data(layer);
        var first = Run(layer, x, dy);
        var routes = Enum.GetValues<ConvolutionPass>().Select(layer.LastRoute).ToList();
        var entries = device.Tuning.Entries;

        long launched = device.Launcher.TiledLaunches;
        var second = Run(layer, x, dy);
        int tiledPasses = Enum.GetValues<ConvolutionPass>().Count(pass => layer.LastRoute(pass)!.Family == ProgramFamily.Tiled);
        Assert.Multiple(() =>
        {
            Assert.That(entries, Has.Count.EqualTo(3), "one entry per pass");
            Assert.That(routes.Select(r => r!.Origin), Is.All.EqualTo(RouteOrigin.Measurement));
            Assert.That(routes.Select(r => r!.Reason), Is.All.StartsWith("fastest of 5 after 2 timed runs each"), "direct and four tiles");
            Assert.That(device.Tuning.Entries, Is.EqualTo(entries), "nothing measured again");
            Assert.That(Enum.GetValues<ConvolutionPass>().Select(layer.LastRoute), Is.EqualTo(routes));
            Assert.That(device.Launcher.TiledLaunches - launched, Is.EqualTo(tiledPasses), "the second call launched only its routes");
            Assert.That(second, Is.EqualTo(first), "the same routes give the same bits");
        });
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, routes));

        // The measured routes agree with the direct programs to rounding.
        using var direct = new Conv2DTranspose(TestAccelerators.Require(kind), Options);
        direct.SetWeights(layer.GetWeights().Kernel, layer.GetWeights().Bias);
        var reference = Run(direct, x, dy);
        for (int i = 0; i < first.Length; i++)
        {
            Tolerance.AssertClose(first[i], Array.ConvertAll(reference[i], v => (double)v), $"tensor {i}");
        }
    }

    [Test]
    public void A_saved_table_gives_the_next_device_the_same_routes_and_bits([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tuning-{Guid.NewGuid():N}.json");
        try
        {
            float[][] before;
            List<string> routes;
            float[] kernel, bias;
            using (var owned = TestAccelerators.CreateTiled(kind))
            {
                owned.Device.Algorithm = ConvolutionAlgorithm.Tuned;
                owned.Device.Tuning.Repeats = 1;
                using var layer = new Conv2DTranspose(owned.Device, Options);
                var (x0, dy0) = Data(layer);
                before = Run(layer, x0, dy0);
                routes = [.. Enum.GetValues<ConvolutionPass>().Select(pass => layer.LastRoute(pass)!.Name)];
                (kernel, bias) = (layer.GetWeights().Kernel, layer.GetWeights().Bias!);
                owned.Device.Tuning.Save(path);
            }

            using var next = TestAccelerators.CreateTiled(kind);
            next.Device.Algorithm = ConvolutionAlgorithm.Tuned;
            Assert.That(next.Device.Tuning.Load(path), Is.True, () => next.Device.Tuning.Warning ?? string.Empty);
            next.Device.Tuning.Picker = _ => throw new AssertionException("a loaded key was measured again");
            using var again = new Conv2DTranspose(next.Device, Options);
            again.SetWeights(kernel, bias);
            var (x, dy) = Data(again);
            var after = Run(again, x, dy);
            Assert.Multiple(() =>
            {
                Assert.That(Enum.GetValues<ConvolutionPass>().Select(pass => again.LastRoute(pass)!.Name), Is.EqualTo(routes));
                Assert.That(again.LastRoute(ConvolutionPass.Forward)!.Reason, Does.Contain("loaded from"));
                Assert.That(after, Is.EqualTo(before), "bitwise repeatable across devices with the same table");
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("not json at all", "ignored")]
    [TestCase("{\"format\":\"ilgpudeconv-tuning\",\"version\":1,\"device\":", "ignored")]
    [TestCase("{\"format\":\"something-else\",\"version\":1}", "not a tuning file")]
    [TestCase("{\"format\":\"ilgpudeconv-tuning\",\"version\":2}", "not version 1")]
    [TestCase("{\"format\":\"ilgpudeconv-tuning\",\"version\":1.5}", "not version 1")]
    [TestCase("{\"format\":\"ilgpudeconv-tuning\",\"version\":1e10}", "not version 1")]
    [TestCase("{\"format\":\"ilgpudeconv-tuning\",\"version\":1,\"device\":\"Cuda: NVIDIA H200\",\"entries\":[]}", "made for \"Cuda: NVIDIA H200\"")]
    [TestCase("[1, 2, 3]", "not a tuning file")]
    public void A_corrupt_or_foreign_tuning_file_is_ignored_with_a_warning(string text, string reason)
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        string path = Path.Combine(Path.GetTempPath(), $"tuning-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(device.Tuning.Load(path), Is.False);
                Assert.That(device.Tuning.Warning, Does.Contain(path).And.Contain(reason));
                Assert.That(device.Tuning.Entries, Is.Empty);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Tiled\",\"splits\":1}", "only there")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"tile\":\"Tile64x64\",\"splits\":1}", "only there")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Tiled\",\"tile\":\"Tile32x32\",\"splits\":1}", "names no block tile")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"splits\":0}", "split count")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"splits\":100000}", "split count")]
    [TestCase("{\"key\":\"Sideways n1\",\"family\":\"Direct\",\"splits\":1}", "names no pass")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Magic\",\"splits\":1}", "program family")]
    [TestCase("7", "not an object")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"splits\":1,\"microseconds\":1e999}", "no time in microseconds")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"splits\":1,\"microseconds\":-3}", "no time in microseconds")]
    [TestCase("{\"key\":\"Forward n1\",\"family\":\"Direct\",\"splits\":1,\"microseconds\":\"fast\"}", "no time in microseconds")]
    public void A_file_with_one_bad_entry_is_ignored_as_a_whole(string entry, string reason)
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        string path = Path.Combine(Path.GetTempPath(), $"tuning-{Guid.NewGuid():N}.json");
        string good = "{\"key\":\"Forward n2\",\"family\":\"Direct\",\"splits\":1}";
        File.WriteAllText(path, $"{{\"format\":\"ilgpudeconv-tuning\",\"version\":1,\"device\":{JsonSerializer.Serialize(device.Tuning.DeviceIdentity)},\"entries\":[{good},{entry}]}}");
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(device.Tuning.Load(path), Is.False);
                Assert.That(device.Tuning.Warning, Does.Contain(reason));
                Assert.That(device.Tuning.Entries, Is.Empty, "not even the good entry");
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_loaded_route_that_is_no_longer_a_candidate_is_measured_again()
    {
        using var owned = TestAccelerators.CreateTiled(AcceleratorKind.Cpu);
        var device = owned.Device;
        device.Algorithm = ConvolutionAlgorithm.Tuned;
        device.Tuning.Repeats = 1;
        using var layer = new Conv2DTranspose(device, Options);
        var (x, dy) = Data(layer);
        layer.Forward(x, Input);
        string key = device.Tuning.Entries.Single().Key;

        // The same key, a route no rule gives this layer (the forward pass has one split).
        string path = Path.Combine(Path.GetTempPath(), $"tuning-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $"{{\"format\":\"ilgpudeconv-tuning\",\"version\":1,\"device\":{JsonSerializer.Serialize(device.Tuning.DeviceIdentity)},\"entries\":[{{\"key\":{JsonSerializer.Serialize(key)},\"family\":\"Tiled\",\"tile\":\"Tile64x64\",\"splits\":7}}]}}");
        try
        {
            device.Tuning.Clear();
            Assert.That(device.Tuning.Load(path), Is.True, () => device.Tuning.Warning ?? string.Empty);
            layer.Forward(x, Input);
            Assert.Multiple(() =>
            {
                Assert.That(layer.LastRoute(ConvolutionPass.Forward)!.Reason, Does.StartWith("fastest of"), "measured, not the stale entry");
                Assert.That(device.Tuning.Entries.Single().Route.Splits, Is.EqualTo(1));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Where_only_one_route_is_eligible_nothing_is_measured()
    {
        var device = TestAccelerators.Require(AcceleratorKind.Cpu);
        var before = device.Algorithm;
        device.Algorithm = ConvolutionAlgorithm.Tuned;
        try
        {
            using var layer = new Conv2DTranspose(device, Options);
            var (x, dy) = Data(layer);
            Run(layer, x, dy);
            var route = layer.LastRoute(ConvolutionPass.KernelGradient)!;
            Assert.Multiple(() =>
            {
                Assert.That(route.Origin, Is.EqualTo(RouteOrigin.Rule));
                Assert.That(route.Reason, Does.Contain("only route here").And.Contain("no 256-thread groups"));
                Assert.That(device.Tuning.Entries, Is.Empty);
            });
        }
        finally
        {
            device.Algorithm = before;
        }
    }

    /// <summary>Every candidate route on the golden files: case i takes candidate (i + pass) of each pass's list, through the measured path.</summary>
    [TestCaseSource(nameof(GoldenCases))]
    public void Every_candidate_route_matches_TensorFlow_on_the_golden_cases(AcceleratorKind kind, string file, int id)
    {
        var device = TestAccelerators.RequireTuned(kind);
        device.Tuning.Clear();
        device.Tuning.Picker = candidates => (id + (int)candidates[0].Pass) % candidates.Count;
        try
        {
            var c = ConformanceCase.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "cases", file)).Single(x => x.Id == id);
            var result = ConformanceRunner.Run(device, c, forwardOnly: false);
            Assert.That(result.Passed, Is.True, () => c.Describe() + Environment.NewLine + string.Join(Environment.NewLine, result.Checks) + Environment.NewLine + string.Join(Environment.NewLine, device.Tuning.Entries.Select(e => e.Route)));
        }
        finally
        {
            device.Tuning.Picker = null;
        }
    }

    private static (float[] X, float[] Dy) Data(Conv2DTranspose layer)
    {
        var random = new Random(11);
        var x = RandomTensors.Uniform(random, Input.ElementCount);
        var dy = RandomTensors.Uniform(random, layer.ComputeOutputShape(Input).ElementCount);
        return (x, dy);
    }

    /// <summary>Forward and backward: output, input gradient, kernel gradient, bias gradient.</summary>
    private static float[][] Run(Conv2DTranspose layer, float[] x, float[] dy)
    {
        var y = layer.Forward(x, Input);
        var dx = layer.Backward(dy);
        var (dk, db) = layer.GetGradients();
        return [y, dx, dk, db!];
    }
}
