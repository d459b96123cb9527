using System.Collections.Generic;
using System;
using System.Diagnostics;
using System.Linq;
using CsCheck;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Random configurations, valid and invalid: nothing crashes or hangs, invalid ones are refused with an
/// argument exception, valid ones have TensorFlow's output shape and crop (both written again here from
/// Keras's and TensorFlow's rules, not taken from the library) and the double-precision reference's output
/// and input, kernel and bias gradients. One case in forty is large enough (at least 1024 input pixels) for the
/// weight gradients to be summed in several chunks. The cases come from one seeded generator, so a run is
/// repeatable: the seed is printed, and a failure names it with the case's index. <see cref="SeedVariable"/> =
/// <c>random</c> (or a printed seed) and <see cref="IterationsVariable"/> change the run.
/// </summary>
public sealed class FuzzTests
{
    /// <summary>Options drawn with every argument sometimes out of range, and an input shape of rank 3 to 5 with sizes from 0.</summary>
    public sealed record FuzzCase(
        int Filters, (int, int) Kernel, (int, int) Strides, (int, int) Dilation, (int, int)? OutputPadding,
        Padding Padding, DataFormat Format, bool UseBias, string Activation, int[] Shape, int Seed, int Groups = 1, (int Top, int Bottom, int Left, int Right)? Pads = null)
    {
        public override string ToString() =>
            $"filters={Filters} k={Kernel} s={Strides} d={Dilation} op={OutputPadding?.ToString() ?? "None"} {Padding} {Format} bias={UseBias} {Activation} groups={Groups} pads={Pads?.ToString() ?? "None"} shape=[{string.Join(", ", Shape)}]";
    }

    /// <summary>
    /// A valid-looking configuration (dilation only at stride 1), then, half of the time, one mutation that
    /// Keras or TensorFlow refuses; TensorFlow's size rules refuse some of the rest by themselves.
    /// </summary>
    private static Gen<FuzzCase> Cases { get; } =
        from filters in Gen.Int[1, 4]
        from kernel in Gen.Select(Gen.Int[1, 5], Gen.Int[1, 5])
        from strides in Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3])
        from dilation in Gen.Select(Gen.Int[1, 3], Gen.Int[1, 2])
        from dilated in Gen.Bool
        from outputPadding in Gen.Select(Gen.Bool, Gen.Int[0, 2], Gen.Int[0, 2])
        from padding in Gen.Enum<Padding>()
        from format in Gen.Enum<DataFormat>()
        from useBias in Gen.Bool
        from activation in Gen.OneOf(ReferenceActivations.Names)
        from large in Gen.Int[0, 39]
        from dims in Gen.Int[1, 6].Array[4]
        from big in Gen.Select(Gen.Int[4, 5], Gen.Int[16, 22], Gen.Int[16, 22], Gen.Int[1, 3])
        from mutation in Gen.Int[0, 19]
        from groups in Gen.Int[1, 3]
        from seed in Gen.Int[0, int.MaxValue]
        from withPads in Gen.Int[0, 3]
        from pads in Gen.Select(Gen.Int[-2, 3], Gen.Int[-2, 3], Gen.Int[-2, 3], Gen.Int[-2, 3])
        let s = dilated ? (1, 1) : strides
        let d = dilated ? dilation : (1, 1)
        let op = outputPadding.Item1 ? ((int, int)?)(outputPadding.Item2 % s.Item1, outputPadding.Item3 % s.Item2) : null
        let plain = large != 0 ? dims : format == DataFormat.ChannelsLast ? [big.Item1, big.Item2, big.Item3, big.Item4] : new[] { big.Item1, big.Item4, big.Item2, big.Item3 }
        let shape = WithChannelsTimes(plain, format, groups)
        // A quarter with padding per edge (ONNX, tf.nn): asymmetric, sometimes negative; valid Keras padding beside it.
        select Mutate(withPads == 0
            ? new FuzzCase(filters * groups, kernel, s, d, op, Padding.Valid, format, useBias, activation, shape, seed, groups, pads)
            : new FuzzCase(filters * groups, kernel, s, d, op, padding, format, useBias, activation, shape, seed, groups), mutation);

    /// <summary>The shape with its channels multiplied (by the groups, so that they divide them).</summary>
    private static int[] WithChannelsTimes(int[] shape, DataFormat format, int factor)
    {
        var result = (int[])shape.Clone();
        result[format == DataFormat.ChannelsLast ? 3 : 1] *= factor;
        return result;
    }

    private static FuzzCase Mutate(FuzzCase c, int mutation) => mutation switch
    {
        0 => c with { Filters = -c.Filters + 1 },                                       // filters 0 or negative
        1 => c with { Kernel = (0, c.Kernel.Item2) },                                   // kernel_size 0
        2 => c with { Strides = (c.Strides.Item1, 0) },                                 // strides 0
        3 => c with { Dilation = (0, c.Dilation.Item2) },                               // dilation 0
        4 => c with { Strides = (2, c.Strides.Item2), Dilation = (c.Dilation.Item1, 2) }, // dilation with stride
        5 => c with { OutputPadding = (c.Strides.Item1, 0) },                           // output_padding >= stride
        6 => c with { OutputPadding = (-1, 0) },                                        // negative output_padding
        7 => c with { Shape = c.Shape[..3] },                                           // rank 3
        8 => c with { Shape = [.. c.Shape, 2] },                                        // rank 5
        9 => c with { Shape = [c.Shape[0], 0, c.Shape[2], c.Shape[3]] },                // an empty dimension
        10 => c with { Groups = c.Filters + 1 },                                        // groups not dividing the filters
        11 => c with { Groups = 2, Filters = 2 * c.Filters, Shape = WithChannelsTimes(c.Shape, c.Format, 1) }, // groups dividing the channels or not
        12 when c.Pads is not null => c with { Padding = Padding.Same },                // pads beside Keras's same padding
        13 when c.Pads is not null => c with { Strides = (2, c.Strides.Item2), Dilation = (2, c.Dilation.Item2) }, // pads allow strides with dilations
        _ => c,                                                                         // left valid (TF may still refuse its sizes)
    };

    /// <summary>The generator's seed (as a run prints it), or <c>random</c> for a fresh one; unset: the fixed seed below.</summary>
    public const string SeedVariable = "ILGPUDECONV_FUZZ_SEED";

    /// <summary>How many configurations to draw, instead of each test's default.</summary>
    public const string IterationsVariable = "ILGPUDECONV_FUZZ_ITERATIONS";

    private const string FixedSeed = "0N0XIzNsQ0O2";

    [Test]
    public void Ten_thousand_random_configurations_on_the_CPU_accelerator() => Fuzz(AcceleratorKind.Cpu, 10_000);

    /// <summary>The GPU-side runs: OpenCL (PoCL, slow) and CUDA, where this run tests them.</summary>
    public static IEnumerable<TestCaseData> GpuRuns() =>
        TestAccelerators.Tested.Where(k => k != AcceleratorKind.Cpu)
            .Select(k => new TestCaseData(k, k == AcceleratorKind.OpenCL ? 600 : 10_000).SetName($"Random_configurations_on_{(k == AcceleratorKind.Cuda ? "CUDA" : "OpenCL")}"));

    [TestCaseSource(nameof(GpuRuns))]
    public void Random_configurations_on_a_GPU_accelerator(AcceleratorKind kind, int iterations) => Fuzz(kind, iterations);

    [Test]
    public void The_independent_shape_and_crop_rules_match_TensorFlows_examples()
    {
        // docs/CONFORMANCE-FORMAT.md's examples of TensorFlow's same padding: k=4,s=2 crops 1 and 1; k=3,s=2 crops 0 and 1; k=5,s=2 crops 1 and 2.
        Assert.That(Crop(5, 4, 2, 1, 10, Padding.Same), Is.EqualTo(1));
        Assert.That(Crop(5, 3, 2, 1, 10, Padding.Same), Is.EqualTo(0));
        Assert.That(Crop(5, 5, 2, 1, 10, Padding.Same), Is.EqualTo(1));
        Assert.That(Crop(5, 5, 2, 1, 13, Padding.Valid), Is.Zero);
        Assert.That(Length(5, 4, 2, 1, null, Padding.Same), Is.EqualTo(10));
        Assert.That(Length(5, 3, 2, 1, null, Padding.Valid), Is.EqualTo(11));
        Assert.That(Length(4, 4, 2, 1, 0, Padding.Same), Is.Null, "TensorFlow refuses: the output maps back to 3 rows, not 4");
    }

    private static void Fuzz(AcceleratorKind kind, int defaultIterations)
    {
        var device = TestAccelerators.Require(kind);
        string? seedSetting = Environment.GetEnvironmentVariable(SeedVariable);
        var pcg = string.IsNullOrWhiteSpace(seedSetting) ? PCG.Parse(FixedSeed)
            : seedSetting == "random" ? new PCG((uint)Random.Shared.Next(), (ulong)Random.Shared.NextInt64())
            : PCG.Parse(seedSetting);
        string seed = pcg.ToString();
        int iterations = int.TryParse(Environment.GetEnvironmentVariable(IterationsVariable), out int n) && n > 0 ? n : defaultIterations;
        TestContext.Out.WriteLine($"fuzz seed: {seed} ({SeedVariable}={seed} repeats this run), {iterations} iterations");
        int valid = 0, refused = 0, chunked = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            var c = Cases.Generate(pcg, null, out _);
            Outcome outcome;
            try
            {
                outcome = Run(device, c);
            }
            catch (Exception ex) when (ex is not IgnoreException)
            {
                throw new AssertionException($"fuzz case {i} of the run with {SeedVariable}={seed}: {c}{Environment.NewLine}{ex.Message}", ex);
            }

            switch (outcome)
            {
                case Outcome.Refused:
                    refused++;
                    break;
                case Outcome.ValidChunked:
                    valid++;
                    chunked++;
                    break;
                default:
                    valid++;
                    break;
            }
        }

        TestContext.Out.WriteLine($"fuzz on {kind}: {valid + refused} configurations ({valid} valid and checked against the reference, forward and backward, {chunked} of them large; {refused} refused) in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Multiple(() =>
        {
            Assert.That(valid + refused, Is.EqualTo(iterations));
            Assert.That(valid, Is.GreaterThan(iterations / 5), "enough valid configurations");
            Assert.That(refused, Is.GreaterThan(iterations / 5), "enough invalid configurations");
            Assert.That(chunked, Is.GreaterThan(iterations / 200), "enough large configurations");
        });
    }

    /// <summary>
    /// A gradient against the reference, allowing float rounding on the scale of the terms it sums (which may
    /// cancel far below their size): <c>|a - b| &lt;= 1e-5 |b| + 2e-5 sum|terms| + 1e-6</c>.
    /// </summary>
    private static void AssertWithinRounding(float[] actual, double[] expected, double[] magnitude, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            if (Tolerance.Mismatch(actual[i], expected[i], (2e-5 * magnitude[i]) + 1e-6, 1e-5) is { } reason)
            {
                Assert.Fail($"{what}[{i}]: {reason} (terms summing to {magnitude[i]:G3} in absolute value)");
            }
        }
    }

    private enum Outcome
    {
        Refused,
        Valid,
        ValidChunked,
    }

    /// <summary>Runs one configuration: refused, or valid and checked forward and backward.</summary>
    private static Outcome Run(DeconvDevice device, FuzzCase c)
    {
        var options = new Conv2DTransposeOptions(c.Filters, c.Kernel)
        {
            Strides = c.Strides,
            DilationRate = c.Dilation,
            OutputPadding = c.OutputPadding is { } op ? new Size2D(op.Item1, op.Item2) : null,
            Padding = c.Padding,
            DataFormat = c.Format,
            UseBias = c.UseBias,
            Activation = ILGpuDeconv.Activation.FromName(c.Activation),
            Groups = c.Groups,
            Pads = c.Pads is var (top, bottom, left, right) ? new Pads2D(top, bottom, left, right) : null,
        };
        int[]? expectedShape = ExpectedOutputShape(c);
        Conv2DTranspose? layer = null;
        try
        {
            layer = new Conv2DTranspose(device, options);
            if (c.Shape.Any(d => d < 1))
            {
                Assert.That(expectedShape, Is.Null, c.ToString());
                Assert.Throws<ArgumentException>(() => _ = new TensorShape(c.Shape), c.ToString());
                return Outcome.Refused;
            }

            var shape = new TensorShape(c.Shape);
            var random = new Random(c.Seed);
            var x = RandomTensors.Uniform(random, shape.ElementCount);
            if (expectedShape is null)
            {
                var ex = Assert.Catch<ArgumentException>(() => layer.Predict(x, shape), c.ToString());
                Assert.That(ex!.ParamName, Is.EqualTo("inputShape"), c.ToString());
                return Outcome.Refused;
            }

            var geometry = layer.GetGeometry(shape);
            Assert.That(geometry.OutputShape.ToArray(), Is.EqualTo(expectedShape), c.ToString());
            Assert.That(
                (geometry.CropBegin.Height, geometry.CropBegin.Width),
                Is.EqualTo(ExpectedCrop(c, geometry.OutputHeight, geometry.OutputWidth)),
                $"crop, {c}");
            var kernel = RandomTensors.Uniform(random, geometry.KernelShape.ElementCount);
            var bias = c.UseBias ? RandomTensors.Uniform(random, c.Filters) : null;
            layer.SetWeights(kernel, bias);
            var y = layer.Forward(x, shape);
            Assert.That(y, Has.Length.EqualTo(expectedShape.Aggregate(1, (a, b) => a * b)), c.ToString());
            var reference = new ReferenceConv2DTranspose(geometry);
            Tolerance.AssertClose(y, reference.Forward(x, kernel, bias, c.Activation), c.ToString());

            var upstream = RandomTensors.Uniform(random, y.Length);
            var dx = layer.Backward(upstream);
            var (dk, db) = layer.GetGradients();
            var expected = reference.Gradients(x, kernel, bias, c.Activation, upstream);
            var scale = reference.GradientMagnitudes(x, kernel, bias, c.Activation, upstream);
            AssertWithinRounding(dx, expected.Input, scale.Input, $"input gradient, {c}");
            AssertWithinRounding(dk, expected.Kernel, scale.Kernel, $"kernel gradient, {c}");
            if (db is not null)
            {
                AssertWithinRounding(db, expected.Bias, scale.Bias, $"bias gradient, {c}");
            }

            // Enough terms for the CPU accelerator's reductions to split into chunks (ChunkPlan: 512 terms a chunk at least).
            return (long)geometry.Batch * geometry.InputHeight * geometry.InputWidth >= 1024 ? Outcome.ValidChunked : Outcome.Valid;
        }
        catch (ArgumentException) when (expectedShape is null && layer is null)
        {
            return Outcome.Refused; // invalid options, refused at construction
        }
        finally
        {
            layer?.Dispose();
        }
    }

    /// <summary>TensorFlow's output shape, written again from Keras's rules; null when Keras or TensorFlow refuses the configuration.</summary>
    private static int[]? ExpectedOutputShape(FuzzCase c)
    {
        var (kh, kw) = c.Kernel;
        var (sh, sw) = c.Strides;
        var (dh, dw) = c.Dilation;
        if (c.Filters < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || (c.Pads is null && Math.Max(sh, sw) > 1 && Math.Max(dh, dw) > 1))
        {
            return null;
        }

        // Keras: output_padding below the stride; with pads (ONNX, PyTorch), below the stride or the dilation.
        if (c.OutputPadding is { } op && (op.Item1 < 0 || op.Item2 < 0
            || op.Item1 >= (c.Pads is null ? sh : Math.Max(sh, dh)) || op.Item2 >= (c.Pads is null ? sw : Math.Max(sw, dw))))
        {
            return null;
        }

        if (c.Pads is not null && c.Padding != Padding.Valid)
        {
            return null;
        }

        if (c.Shape.Length != 4 || c.Shape.Any(d => d < 1))
        {
            return null;
        }

        // Groups (PyTorch's): they must divide the filters and the input channels.
        bool last = c.Format == DataFormat.ChannelsLast;
        if (c.Groups < 1 || c.Filters % c.Groups != 0 || c.Shape[last ? 3 : 1] % c.Groups != 0)
        {
            return null;
        }

        int n = c.Shape[0], h = last ? c.Shape[1] : c.Shape[2], w = last ? c.Shape[2] : c.Shape[3];
        int? oh = c.Pads is var (top, bottom, _, _) ? PaddedLength(h, kh, sh, dh, c.OutputPadding?.Item1 ?? 0, top, bottom) : Length(h, kh, sh, dh, c.OutputPadding?.Item1, c.Padding);
        int? ow = c.Pads is var (_, _, left, right) ? PaddedLength(w, kw, sw, dw, c.OutputPadding?.Item2 ?? 0, left, right) : Length(w, kw, sw, dw, c.OutputPadding?.Item2, c.Padding);
        if (oh is null || ow is null)
        {
            return null;
        }

        return last ? [n, oh.Value, ow.Value, c.Filters] : [n, c.Filters, oh.Value, ow.Value];
    }

    /// <summary>
    /// TensorFlow's crop at the start, written again: as a forward SAME convolution of the output would pad,
    /// <c>need = max(0, (n-1)*s + k_eff - out)</c>, <c>need // 2</c> at the start; nothing for VALID.
    /// </summary>
    private static (int Top, int Left) ExpectedCrop(FuzzCase c, int outHeight, int outWidth)
    {
        if (c.Pads is var (top, _, left, _))
        {
            return (top, left); // the pads at the start are the crop (negative: rows before the full result)
        }

        bool last = c.Format == DataFormat.ChannelsLast;
        int h = last ? c.Shape[1] : c.Shape[2], w = last ? c.Shape[2] : c.Shape[3];
        return (Crop(h, c.Kernel.Item1, c.Strides.Item1, c.Dilation.Item1, outHeight, c.Padding), Crop(w, c.Kernel.Item2, c.Strides.Item2, c.Dilation.Item2, outWidth, c.Padding));
    }

    private static int Crop(int n, int k, int s, int d, int outLength, Padding padding)
    {
        int kEff = ((k - 1) * d) + 1;
        return padding == Padding.Valid ? 0 : Math.Max(0, ((n - 1) * s) + kEff - outLength) / 2;
    }

    /// <summary>
    /// ONNX's (and tf.nn's explicit) output length, written again: <c>s*(n-1) + output_padding + k_eff - begin - end</c>;
    /// refused below 1, or when the rows added before the full result are as many as the output (none holds a product).
    /// </summary>
    private static int? PaddedLength(int n, int k, int s, int d, int outputPadding, int begin, int end)
    {
        int length = (s * (n - 1)) + outputPadding + ((k - 1) * d) + 1 - begin - end;
        return length < 1 || -begin >= length ? null : length;
    }

    private static int? Length(int n, int k, int s, int d, int? outputPadding, Padding padding)
    {
        int kEff = ((k - 1) * d) + 1;
        int length = outputPadding is int p
            ? ((n - 1) * s) + kEff - (2 * (padding == Padding.Same ? kEff / 2 : 0)) + p
            : padding == Padding.Same ? n * s : (n * s) + Math.Max(kEff - s, 0);
        if (length < 1)
        {
            return null;
        }

        // The forward convolution of the output must give back n (TensorFlow's check).
        int back = padding == Padding.Same ? (length + s - 1) / s : length < kEff ? -1 : ((length - kEff) / s) + 1;
        return back == n ? length : null;
    }
}
