using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CsCheck;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;
using ILGpuDeconv.Routing;
using ILGpuDeconv.Tests.Golden;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Programs.Tiled;

/// <summary>
/// The tiled implicit-GEMM programs (<see cref="ConvolutionAlgorithm.TiledGemm"/>) against TensorFlow's golden
/// cases and the double-precision reference, on the CPU accelerator (configured for 256-thread groups) and
/// OpenCL; shapes that span several block tiles, phases and reduction splits; and the fallback to the direct
/// programs for non-finite weights.
/// </summary>
public sealed class TiledProgramTests
{
    private static IEnumerable<AcceleratorKind> Kinds => TestAccelerators.Tested;

    public static IEnumerable<TestCaseData> GoldenCases() => GoldenCaseTests.CasesFor("TiledGolden");

    [TestCaseSource(nameof(GoldenCases))]
    public void Golden_case_matches_TensorFlow(AcceleratorKind kind, string file, int id)
    {
        var device = TestAccelerators.RequireTiled(kind);
        var c = ConformanceCase.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "cases", file)).Single(x => x.Id == id);
        long launched = device.Launcher.TiledLaunches;
        var result = ConformanceRunner.Run(device, c, forwardOnly: false);
        Assert.That(result.Passed, Is.True, () => c.Describe() + Environment.NewLine + string.Join(Environment.NewLine, result.Checks));
        if (file != "nonfinite.json")
        {
            Assert.That(device.Launcher.TiledLaunches - launched, Is.GreaterThanOrEqualTo(3), "forward, input gradient and kernel gradient ran tiled");
        }
    }

    [Test]
    public void Random_configurations_match_the_reference([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        var device = TestAccelerators.RequireTiled(kind);
        int checkedCases = 0;
        LayerMatchesReferenceTests.Configurations.Where(c => c.IsValid).Sample(
            c =>
            {
                LayerMatchesReferenceTests.CheckAgainstReference(device, c);
                checkedCases++;
            },
            iter: kind == AcceleratorKind.Cpu ? 40 : 100,
            threads: 1,
            seed: "0TiledGemm01");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(40));
    }

    /// <summary>Shapes past one block tile in every direction, every tile shape, several phases and splits.</summary>
    public static IEnumerable<TestCaseData> LargeCases()
    {
        foreach (var kind in Kinds)
        {
            // rows of the GEMM past 128, filters past 128 (two column tiles of 128), channels not a multiple of 8
            yield return Large(kind, "wide", new(2, 9, 9, 13, 130, new Size2D(4, 4), new Size2D(2, 2), new Size2D(1, 1), Padding.Same, DataFormat.ChannelsLast, true, "relu", null, 7));

            // 64-column tiles, channels_first, odd strides with a kernel smaller than the stride on one axis
            yield return Large(kind, "first", new(3, 11, 7, 20, 40, new Size2D(2, 5), new Size2D(3, 2), new Size2D(1, 1), Padding.Valid, DataFormat.ChannelsFirst, true, "tanh", null, 8));

            // dilation, 66 channels (a 128-wide input-gradient tile), a long kernel-gradient reduction split in parts
            yield return Large(kind, "dilated", new(4, 24, 24, 66, 9, new Size2D(3, 3), new Size2D(1, 1), new Size2D(2, 2), Padding.Same, DataFormat.ChannelsLast, false, "linear", null, 9));
        }
    }

    private static TestCaseData Large(AcceleratorKind kind, string name, LayerMatchesReferenceTests.RandomCase c) =>
        new TestCaseData(kind, c).SetName($"Large_shapes_match_the_reference({kind}, {name})");

    [TestCaseSource(nameof(LargeCases))]
    public void Large_shapes_match_the_reference(AcceleratorKind kind, LayerMatchesReferenceTests.RandomCase c)
    {
        var device = TestAccelerators.RequireTiled(kind);
        LayerMatchesReferenceTests.CheckAgainstReference(device, c);
    }

    [Test]
    public void The_dilated_large_case_splits_the_kernel_gradient_and_uses_wide_tiles()
    {
        var c = (LayerMatchesReferenceTests.RandomCase)LargeCases().First(t => t.TestName!.Contains("dilated", StringComparison.Ordinal)).Arguments[1]!;
        var p = new Conv2DTransposeParams(Conv2DTransposeGeometry.Create(c.Options, c.InputShape));
        var (shape, splits) = TileChoice.ForKernelGradient(p, multiprocessors: 1);
        Assert.Multiple(() =>
        {
            Assert.That(splits, Is.GreaterThan(1), "4*24*24 positions: more than 256 slices");
            Assert.That(shape, Is.EqualTo(TileShape.Tile64x128), "9 filters by 66 channels");
            var (rows, columns, _) = InputGradientTiledProgram.GemmSize(p);
            Assert.That(TileChoice.For(rows, columns, 1, 1), Is.EqualTo(TileShape.Tile128x128));
        });
    }

    [TestCaseSource(nameof(Kinds))]
    public void Non_finite_weights_fall_back_to_the_direct_programs_bit_for_bit(AcceleratorKind kind)
    {
        var tiled = TestAccelerators.RequireTiled(kind);
        var direct = TestAccelerators.Require(kind);
        var options = new Conv2DTransposeOptions(5, 3) { Strides = 2, Padding = Padding.Same };
        var shape = new TensorShape(2, 4, 4, 3);
        var random = new Random(5);
        var x = RandomTensors.Uniform(random, shape.ElementCount);
        using var a = new Conv2DTranspose(tiled, options);
        using var b = new Conv2DTranspose(direct, options);
        var kernel = RandomTensors.Uniform(random, a.GetGeometry(shape).KernelShape.ElementCount);
        var bias = RandomTensors.Uniform(random, 5);
        kernel[7] = float.PositiveInfinity;
        a.SetWeights(kernel, bias);
        b.SetWeights(kernel, bias);
        var ya = a.Forward(x, shape);
        var yb = b.Forward(x, shape);
        var dy = RandomTensors.Uniform(random, ya.Length);
        var dxa = a.Backward(dy);
        var dxb = b.Backward(dy);
        Assert.Multiple(() =>
        {
            Assert.That(ya, Is.EqualTo(yb), "forward: the direct program on both devices");
            Assert.That(dxa, Is.EqualTo(dxb), "input gradient: the direct program on both devices");
            Assert.That(ya.Count(float.IsNaN), Is.LessThan(ya.Length), "an infinite weight reaches only the outputs it feeds");
        });

        // Finite again: the tiled programs run, and agree with the direct ones to rounding.
        kernel[7] = 0.5f;
        a.SetWeights(kernel, bias);
        b.SetWeights(kernel, bias);
        long launched = tiled.Launcher.TiledLaunches;
        Tolerance.AssertClose(a.Forward(x, shape), Array.ConvertAll(b.Forward(x, shape), v => (double)v), "forward after the weights became finite");
        Assert.That(tiled.Launcher.TiledLaunches, Is.EqualTo(launched + 1), "the tiled forward program ran");
    }

    [Test]
    public void TiledGemm_is_refused_where_groups_of_256_threads_are_not_available()
    {
        var device = TestAccelerators.Require(AcceleratorKind.Cpu);
        var error = Assert.Throws<NotSupportedException>(() => device.Algorithm = ConvolutionAlgorithm.TiledGemm)!;
        Assert.Multiple(() =>
        {
            Assert.That(error.Message, Does.Contain("256 threads").And.Contain("2 threads"));
            Assert.That(device.Algorithm, Is.EqualTo(ConvolutionAlgorithm.Auto), "unchanged");
            Assert.That(() => device.Algorithm = (ConvolutionAlgorithm)7, Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("value"));
        });
    }
}
