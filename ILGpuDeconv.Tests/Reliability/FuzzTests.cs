using System;
using System.Diagnostics;
using System.Linq;
using CsCheck;
using ILGpuDeconv.Geometry;
using ILGpuDeconv.Runtime;
using ILGpuDeconv.Tensors;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Random configurations, valid and invalid: nothing crashes or hangs, invalid ones are refused with an
/// argument exception, valid ones have TensorFlow's output shape (computed here, independently) and the
/// reference's values.
/// </summary>
public sealed class FuzzTests
{
    /// <summary>Options drawn with every argument sometimes out of range, and an input shape of rank 3 to 5 with sizes from 0.</summary>
    public sealed record FuzzCase(
        int Filters, (int, int) Kernel, (int, int) Strides, (int, int) Dilation, (int, int)? OutputPadding,
        Padding Padding, DataFormat Format, bool UseBias, string Activation, int[] Shape, int Seed)
    {
        public override string ToString() =>
            $"filters={Filters} k={Kernel} s={Strides} d={Dilation} op={OutputPadding?.ToString() ?? "None"} {Padding} {Format} bias={UseBias} {Activation} shape=[{string.Join(", ", Shape)}]";
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
        from dims in Gen.Int[1, 5].Array[4]
        from mutation in Gen.Int[0, 19]
        from seed in Gen.Int[0, int.MaxValue]
        let s = dilated ? (1, 1) : strides
        let d = dilated ? dilation : (1, 1)
        let op = outputPadding.Item1 ? ((int, int)?)(outputPadding.Item2 % s.Item1, outputPadding.Item3 % s.Item2) : null
        select Mutate(new FuzzCase(filters, kernel, s, d, op, padding, format, useBias, activation, dims, seed), mutation);

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
        _ => c,                                                                         // left valid (TF may still refuse its sizes)
    };

    [Test]
    public void Ten_thousand_random_configurations_on_the_CPU_accelerator() => Fuzz(AcceleratorKind.Cpu, 10_000);

    [Test]
    public void Random_configurations_on_OpenCL() => Fuzz(AcceleratorKind.OpenCL, 600);

    [Test]
    public void Random_configurations_on_CUDA() => Fuzz(AcceleratorKind.Cuda, 10_000);

    private static void Fuzz(AcceleratorKind kind, int iterations)
    {
        var device = TestAccelerators.Require(kind);
        int valid = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        Cases.Sample(c =>
        {
            if (Run(device, c))
            {
                valid++;
            }
            else
            {
                refused++;
            }
        }, iter: iterations, threads: 1, seed: "0N0XIzNsQ0O2");
        TestContext.Out.WriteLine($"fuzz on {kind}: {valid + refused} configurations ({valid} valid and checked against the reference, {refused} refused) in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Multiple(() =>
        {
            Assert.That(valid + refused, Is.EqualTo(iterations));
            Assert.That(valid, Is.GreaterThan(iterations / 5), "enough valid configurations");
            Assert.That(refused, Is.GreaterThan(iterations / 5), "enough invalid configurations");
        });
    }

    /// <summary>Runs one configuration; returns whether it was valid.</summary>
    private static bool Run(DeconvDevice device, FuzzCase c)
    {
        var options = new Conv2DTransposeOptions(c.Filters, c.Kernel)
        {
            Strides = c.Strides,
            DilationRate = c.Dilation,
            OutputPadding = c.OutputPadding is { } op ? new Size2D(op.Item1, op.Item2) : null,
            Padding = c.Padding,
            DataFormat = c.Format,
            UseBias = c.UseBias,
            Activation = ILGpuDeconv.Activations.Activation.FromName(c.Activation),
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
                return false;
            }

            var shape = new TensorShape(c.Shape);
            var random = new Random(c.Seed);
            var x = RandomTensors.Uniform(random, shape.ElementCount);
            if (expectedShape is null)
            {
                var ex = Assert.Catch<ArgumentException>(() => layer.Predict(x, shape), c.ToString());
                Assert.That(ex!.ParamName, Is.EqualTo("inputShape"), c.ToString());
                return false;
            }

            var geometry = layer.GetGeometry(shape);
            Assert.That(geometry.OutputShape.ToArray(), Is.EqualTo(expectedShape), c.ToString());
            var kernel = RandomTensors.Uniform(random, geometry.KernelShape.ElementCount);
            var bias = c.UseBias ? RandomTensors.Uniform(random, c.Filters) : null;
            layer.SetWeights(kernel, bias);
            var y = layer.Predict(x, shape);
            Assert.That(y, Has.Length.EqualTo(expectedShape.Aggregate(1, (a, b) => a * b)), c.ToString());
            Tolerance.AssertClose(y, new ReferenceConv2DTranspose(geometry).Forward(x, kernel, bias, c.Activation), c.ToString());
            return true;
        }
        catch (ArgumentException) when (expectedShape is null && layer is null)
        {
            return false; // invalid options, refused at construction
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
        if (c.Filters < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || (Math.Max(sh, sw) > 1 && Math.Max(dh, dw) > 1))
        {
            return null;
        }

        if (c.OutputPadding is { } op && (op.Item1 < 0 || op.Item2 < 0 || op.Item1 >= sh || op.Item2 >= sw))
        {
            return null;
        }

        if (c.Shape.Length != 4 || c.Shape.Any(d => d < 1))
        {
            return null;
        }

        bool last = c.Format == DataFormat.ChannelsLast;
        int n = c.Shape[0], h = last ? c.Shape[1] : c.Shape[2], w = last ? c.Shape[2] : c.Shape[3];
        int? oh = Length(h, kh, sh, dh, c.OutputPadding?.Item1, c.Padding);
        int? ow = Length(w, kw, sw, dw, c.OutputPadding?.Item2, c.Padding);
        if (oh is null || ow is null)
        {
            return null;
        }

        return last ? [n, oh.Value, ow.Value, c.Filters] : [n, c.Filters, oh.Value, ow.Value];
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
