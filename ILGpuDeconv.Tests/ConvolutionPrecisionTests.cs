using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CsCheck;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Tests.Golden;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>
/// <see cref="ConvolutionPrecision.TensorFloat32"/>: the rounding bit for bit, the layer against a double-precision
/// reference that rounds the same operands to TF32 (tight, as for float32), against TensorFlow's golden
/// float32 values within TF32's error bound, and a check that the mode really is TF32.
/// </summary>
public sealed class ConvolutionPrecisionTests
{
    /// <summary>Unit roundoff of TF32's 10-bit mantissa doubled: the relative error bound of a product of two rounded operands.</summary>
    private const double ProductBound = 1.0 / 1024;

    private static IEnumerable<AcceleratorKind> Kinds => TestAccelerators.Tested;

    /// <summary>The TF32 value nearest <paramref name="x"/>, ties away from zero, found by comparing the two candidates in double.</summary>
    private static float NearestTf32(float x)
    {
        if (!float.IsFinite(x))
        {
            return x;
        }

        int bits = BitConverter.SingleToInt32Bits(x);
        float below = BitConverter.Int32BitsToSingle(bits & ~0x1FFF); // toward zero
        float above = BitConverter.Int32BitsToSingle((bits & ~0x1FFF) + 0x2000); // away from zero (may be infinity)
        double dBelow = Math.Abs((double)x - below);
        double dAbove = float.IsInfinity(above) ? Math.Abs((double)x - ((double)below + (Math.Sign(x) * Math.Pow(2, Math.ILogB(below) - 10)))) : Math.Abs((double)x - above);
        return dAbove <= dBelow ? above : below;
    }

    [Test]
    public void Rounding_to_TF32_is_nearest_with_ties_away_from_zero()
    {
        var random = new Random(32);
        var special = new[] { 0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, 1.00048828125f /* a tie: 1 + 2^-11 */ };
        var values = special.Concat(Enumerable.Range(0, 200_000).Select(_ => BitConverter.Int32BitsToSingle(random.Next() | (random.Next(2) << 31))));
        foreach (float x in values.Where(float.IsFinite))
        {
            Assert.That(BitConverter.SingleToInt32Bits(DeviceMath.RoundToTensorFloat32(x)), Is.EqualTo(BitConverter.SingleToInt32Bits(NearestTf32(x))), () => $"x = {x:R}");
        }

        Assert.Multiple(() =>
        {
            Assert.That(DeviceMath.RoundToTensorFloat32(1.00048828125f), Is.EqualTo(1.0009765625f), "a tie rounds away from zero");
            Assert.That(DeviceMath.RoundToTensorFloat32(-1.00048828125f), Is.EqualTo(-1.0009765625f));
            Assert.That(float.IsNaN(DeviceMath.RoundToTensorFloat32(float.NaN)));
            Assert.That(DeviceMath.RoundToTensorFloat32(float.PositiveInfinity), Is.EqualTo(float.PositiveInfinity));
            Assert.That(DeviceMath.RoundToTensorFloat32(float.MaxValue), Is.EqualTo(float.PositiveInfinity), "past the largest finite TF32 value");
        });
    }

    private static float[] Rounded(float[] values) => Array.ConvertAll(values, NearestTf32);

    private static DeconvDevice Device(AcceleratorKind kind, bool tiled) => tiled ? TestAccelerators.RequireTiled(kind) : TestAccelerators.Require(kind);

    [Test]
    public void Random_configurations_match_the_TF32_reference(
        [ValueSource(nameof(Kinds))] AcceleratorKind kind, [Values(false, true)] bool tiled)
    {
        var device = Device(kind, tiled);
        int checkedCases = 0;
        LayerMatchesReferenceTests.Configurations.Where(c => c.IsValid).Sample(
            c =>
            {
                CheckAgainstTf32Reference(device, c);
                checkedCases++;
            },
            iter: kind == AcceleratorKind.Cpu && tiled ? 30 : 80,
            threads: 1,
            seed: "0TF32Precis1");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(30));
    }

    /// <summary>
    /// The tiled programs' tensor-core loops (<c>mma.sync</c> TF32 on CUDA, its emulation elsewhere) against the same
    /// TF32 reference: random small configurations, and shapes spanning several block tiles, phases and slices in
    /// each tile shape.
    /// </summary>
    [Test]
    public void Random_configurations_on_tensor_cores_match_the_TF32_reference([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        var device = TestAccelerators.RequireTensorCores(kind);
        long before = device.Launcher.TensorCoreLaunches;
        int checkedCases = 0;
        LayerMatchesReferenceTests.Configurations.Where(c => c.IsValid).Sample(
            c =>
            {
                CheckAgainstTf32Reference(device, c);
                checkedCases++;
            },
            iter: kind == AcceleratorKind.Cuda ? 80 : 20,
            threads: 1,
            seed: "0TF32Tensor1");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(10));
        Assert.That(device.Launcher.TensorCoreLaunches, Is.GreaterThan(before), $"the tensor-core loops ran ({device.Launcher.TensorCoreFailure ?? "no failure recorded"})");
    }

    /// <summary>Multi-tile shapes on the tensor-core loops: emulated on the CPU accelerator, on CUDA where this run tests it.</summary>
    public static IEnumerable<TestCaseData> MultiTileShapes()
    {
        yield return new TestCaseData(AcceleratorKind.Cpu, 2, 9, 9, 20, 140, 3, 2, DataFormat.ChannelsLast, 1).SetName("Tensor cores, 128-wide tiles, NHWC");
        yield return new TestCaseData(AcceleratorKind.Cpu, 1, 7, 5, 72, 24, 4, 2, DataFormat.ChannelsFirst, 1).SetName("Tensor cores, 64-wide tiles, NCHW");
        yield return new TestCaseData(AcceleratorKind.Cpu, 1, 6, 6, 80, 140, 3, 2, DataFormat.ChannelsLast, 2).SetName("Tensor cores, 2 groups, NHWC");
        if (TestAccelerators.Tested.Contains(AcceleratorKind.Cuda))
        {
            yield return new TestCaseData(AcceleratorKind.Cuda, 4, 17, 13, 96, 200, 3, 2, DataFormat.ChannelsLast, 1).SetName("Tensor cores on CUDA, 128-wide tiles, NHWC");
            yield return new TestCaseData(AcceleratorKind.Cuda, 2, 16, 16, 128, 128, 4, 2, DataFormat.ChannelsFirst, 2).SetName("Tensor cores on CUDA, 2 groups, NCHW");
        }
    }

    [TestCaseSource(nameof(MultiTileShapes))]
    public void Multi_tile_shapes_on_tensor_cores_match_the_TF32_reference(
        AcceleratorKind kind, int batch, int height, int width, int channels, int filters, int kernel, int stride, DataFormat format, int groups)
    {
        var device = TestAccelerators.RequireTensorCores(kind);
        long before = device.Launcher.TensorCoreLaunches;
        var c = new LayerMatchesReferenceTests.RandomCase(
            batch, height, width, channels, filters, new Size2D(kernel), new Size2D(stride), new Size2D(1), Padding.Same, format, true, "linear", null, 17, groups);
        CheckAgainstTf32Reference(device, c);
        Assert.That(device.Launcher.TensorCoreLaunches - before, Is.GreaterThanOrEqualTo(3), $"forward, input gradient and kernel gradient on tensor cores ({device.Launcher.TensorCoreFailure ?? "no failure recorded"})");
    }

    private static void CheckAgainstTf32Reference(DeconvDevice device, LayerMatchesReferenceTests.RandomCase c) => CheckAgainstTf32Reference(device, c, c.Options);

    /// <summary>Checks the layer built with <paramref name="options"/> in TF32 against the TF32 reference (operands rounded, sums in double).</summary>
    internal static void CheckAgainstTf32Reference(DeconvDevice device, LayerMatchesReferenceTests.RandomCase c, Conv2DTransposeOptions options)
    {
        using var layer = new Conv2DTranspose(device, options with { Precision = ConvolutionPrecision.TensorFloat32 });
        var geometry = layer.GetGeometry(c.InputShape);
        var (x, kernel, bias, upstream) = LayerMatchesReferenceTests.RandomData(c, geometry);
        layer.SetWeights(kernel, bias);
        var reference = new ReferenceConv2DTranspose(geometry);
        var (rx, rk) = (Rounded(x), Rounded(kernel));

        // Products of TF32 operands are exact in float32: only the float32 sums differ from the double reference.
        Tolerance.AssertClose(layer.Forward(x, c.InputShape), reference.Forward(rx, rk, bias, c.Activation), $"TF32 output of {c}");

        var gradInput = layer.Backward(upstream);
        var (gradKernel, gradBias) = layer.GetGradients();
        if (c.Activation == "linear")
        {
            // dz = upstream: the reference rounds exactly the operands the layer rounds.
            var expected = reference.Gradients(rx, rk, bias, "linear", Rounded(upstream));
            Tolerance.AssertClose(gradInput, expected.Input, $"TF32 grad_input of {c}", 1e-4, 1e-4);
            Tolerance.AssertClose(gradKernel, expected.Kernel, $"TF32 grad_kernel of {c}", 1e-4, 1e-4);
        }
        else
        {
            // The layer rounds its float32 dz; the reference's dz is double: one TF32 rounding apart per term at most.
            var expected = reference.Gradients(rx, rk, bias, c.Activation, upstream);
            var scale = reference.GradientMagnitudes(rx, rk, bias, c.Activation, upstream);
            WithinBound(gradInput, expected.Input, scale.Input, $"TF32 grad_input of {c}");
            WithinBound(gradKernel, expected.Kernel, scale.Kernel, $"TF32 grad_kernel of {c}");
        }

        if (c.UseBias)
        {
            // The bias gradient sums the unrounded dz (float32 in both precisions), at the TF32 pre-activation.
            var expectedBias = reference.Gradients(rx, rk, bias, c.Activation, upstream).Bias;
            Tolerance.AssertClose(gradBias, expectedBias, $"grad_bias of {c}", 1e-4, 1e-4);
        }
    }

    /// <summary>|actual - expected| within 2^-10 of the sum of the terms' magnitudes, plus float32's slack.</summary>
    private static void WithinBound(float[] actual, double[] expected, double[] magnitude, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            double bound = (ProductBound * magnitude[i]) + 1e-5 + (1e-5 * Math.Abs(expected[i]));
            if (!(Math.Abs(actual[i] - expected[i]) <= bound))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R} within {bound:G3}");
            }
        }
    }

    public static IEnumerable<TestCaseData> LinearGoldenCases() =>
        GoldenCaseTests.CasesFor("TF32 golden", (file, c) => file != "nonfinite.json" && c.ActivationName == "linear");

    /// <summary>
    /// TensorFlow's float32 values (TF.js) with the layer in TF32: every output and gradient within TF32's error
    /// bound, 2^-10 of the sum of the magnitudes of the products it adds (from the reference, on |x|, |K|, |dy|).
    /// </summary>
    [TestCaseSource(nameof(LinearGoldenCases))]
    public void Golden_cases_in_TF32_stay_within_TF32s_error_bound(AcceleratorKind kind, string file, int id)
    {
        var device = TestAccelerators.Require(kind);
        var c = ConformanceCase.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "cases", file)).Single(x => x.Id == id);
        using var layer = new Conv2DTranspose(device, c.Options with { Precision = ConvolutionPrecision.TensorFloat32 });
        var geometry = layer.GetGeometry(c.InputShape);
        layer.SetWeights(c.Kernel, c.Bias);
        var reference = new ReferenceConv2DTranspose(geometry);
        var absX = Array.ConvertAll(c.Input, Math.Abs);
        var absK = Array.ConvertAll(c.Kernel, Math.Abs);
        WithinBound(layer.Forward(c.Input, c.InputShape), Array.ConvertAll(c.Output, v => (double)v), reference.PreActivation(absX, absK, null), $"output of {c.Describe()}");
        if (c.Upstream is { } upstream && c.GradInput is { } gradInput && c.GradKernel is { } gradKernel)
        {
            var dx = layer.Backward(upstream);
            var (dk, db) = layer.GetGradients();
            var scale = reference.GradientMagnitudes(c.Input, c.Kernel, c.Bias, "linear", upstream);
            WithinBound(dx, Array.ConvertAll(gradInput, v => (double)v), scale.Input, $"grad_input of {c.Describe()}");
            WithinBound(dk, Array.ConvertAll(gradKernel, v => (double)v), scale.Kernel, $"grad_kernel of {c.Describe()}");
            if (c.GradBias is { } gradBias)
            {
                Tolerance.AssertClose(db, Array.ConvertAll(gradBias, v => (double)v), $"grad_bias of {c.Describe()}", 1e-4, 1e-4);
            }
        }
    }

    [TestCaseSource(nameof(Kinds))]
    public void TF32_mode_carries_TF32s_error_and_float32_mode_does_not(AcceleratorKind kind)
    {
        // Full-mantissa data over a 256-term reduction: float32 stays near 1e-7 relative to the terms'
        // magnitudes, TF32 near 2^-11..2^-10 of each product.
        var device = TestAccelerators.Require(kind);
        var options = new Conv2DTransposeOptions(8, 4) { Strides = 2, Padding = Padding.Same, UseBias = false };
        var shape = new TensorShape(2, 6, 6, 64);
        var random = new Random(11);
        var x = RandomTensors.Uniform(random, shape.ElementCount);
        using var fp32 = new Conv2DTranspose(device, options);
        using var tf32 = new Conv2DTranspose(device, options with { Precision = ConvolutionPrecision.TensorFloat32 });
        var kernel = RandomTensors.Uniform(random, fp32.GetGeometry(shape).KernelShape.ElementCount);
        fp32.SetWeights(kernel, null);
        tf32.SetWeights(kernel, null);
        var reference = new ReferenceConv2DTranspose(fp32.GetGeometry(shape));
        var exact = reference.PreActivation(x, kernel, null);
        var magnitude = reference.PreActivation(Array.ConvertAll(x, Math.Abs), Array.ConvertAll(kernel, Math.Abs), null);
        double WorstRelative(float[] y) => y.Select((v, i) => Math.Abs(v - exact[i]) / magnitude[i]).Max();
        double fp32Error = WorstRelative(fp32.Forward(x, shape));
        double tf32Error = WorstRelative(tf32.Forward(x, shape));
        Assert.Multiple(() =>
        {
            Assert.That(fp32Error, Is.LessThan(1e-6), "float32");
            Assert.That(tf32Error, Is.GreaterThan(1e-5).And.LessThan(ProductBound), "TF32: well above float32, within the bound");
        });
    }

    [Test]
    public void An_undefined_precision_is_refused_with_its_name() =>
        Assert.That(
            () => new Conv2DTransposeOptions(2, 3) { Precision = (ConvolutionPrecision)5 }.Validate(),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("Precision"));
}
