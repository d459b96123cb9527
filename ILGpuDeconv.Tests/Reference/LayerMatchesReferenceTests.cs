using System;
using System.Globalization;
using CsCheck;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reference;

/// <summary>
/// Property: for random valid configurations (every option, both formats, all activations), the layer's
/// output and gradients equal the plain double-precision reference.
/// </summary>
public sealed class LayerMatchesReferenceTests
{
    /// <summary>A random configuration and its data seed.</summary>
    public sealed record RandomCase(
        int Batch, int Height, int Width, int Channels, int Filters, Size2D Kernel, Size2D Strides, Size2D Dilation,
        Padding Padding, DataFormat Format, bool UseBias, string Activation, Size2D? OutputPadding, int Seed, int Groups = 1)
    {
        public Conv2DTransposeOptions Options => new(Filters, Kernel)
        {
            Strides = Strides,
            DilationRate = Dilation,
            Padding = Padding,
            DataFormat = Format,
            UseBias = UseBias,
            Activation = ILGpuDeconv.Activation.FromName(Activation),
            OutputPadding = OutputPadding,
            Groups = Groups,
        };

        public TensorShape InputShape => Format == DataFormat.ChannelsLast
            ? new TensorShape(Batch, Height, Width, Channels)
            : new TensorShape(Batch, Channels, Height, Width);

        /// <summary>Whether TensorFlow accepts it (the generator also makes configurations it refuses).</summary>
        public bool IsValid
        {
            get
            {
                try
                {
                    Conv2DTransposeGeometry.Create(Options, InputShape);
                    return true;
                }
                catch (ArgumentException)
                {
                    return false;
                }
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"input {InputShape} filters={Filters} k={Kernel} s={Strides} d={Dilation} {Padding} {Format} bias={UseBias} act={Activation} op={OutputPadding?.ToString() ?? "None"} groups={Groups} seed={Seed}");
    }

    /// <summary>Random configurations: small sizes, every option; about a third use stride 1 with dilation.</summary>
    public static Gen<RandomCase> Configurations { get; } =
        from shape in Gen.Select(Gen.Int[1, 2], Gen.Int[1, 6], Gen.Int[1, 6], Gen.Int[1, 5], Gen.Int[1, 6])
        from kernel in Gen.Select(Gen.Int[1, 5], Gen.Int[1, 5])
        from dilated in Gen.Int[0, 2]
        from strides in Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3])
        from dilation in Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3])
        from padding in Gen.Enum<Padding>()
        from format in Gen.Enum<DataFormat>()
        from useBias in Gen.Bool
        from activation in Gen.OneOf(ReferenceActivations.AllNames)
        from outputPadding in Gen.Select(Gen.Bool, Gen.Int[0, 2], Gen.Int[0, 2])
        from seed in Gen.Int
        let s = dilated == 0 ? new Size2D(1) : new Size2D(strides.Item1, strides.Item2)
        let d = dilated == 0 ? new Size2D(dilation.Item1, dilation.Item2) : new Size2D(1)
        select new RandomCase(
            shape.Item1, shape.Item2, shape.Item3, shape.Item4, shape.Item5, new Size2D(kernel.Item1, kernel.Item2), s, d,
            padding, format, useBias, activation,
            outputPadding.Item1 ? new Size2D(outputPadding.Item2 % s.Height, outputPadding.Item3 % s.Width) : null,
            seed);

    [Test]
    public void Forward_and_gradients_match_the_reference([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        int checkedCases = 0;
        Configurations.Where(c => c.IsValid).Sample(
            c =>
            {
                if (System.Environment.GetEnvironmentVariable("TRACE_CASES") == "1") { System.Console.Error.WriteLine(c); }
                CheckAgainstReference(device, c);
                checkedCases++;
            },
            iter: kind == AcceleratorKind.Cpu ? 150 : 100,
            threads: 1,
            seed: "0N0XIzNsQ0O2");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(100));
    }

    /// <summary>The case's input, kernel, bias (null without) and upstream gradient, drawn from its seed.</summary>
    internal static (float[] X, float[] Kernel, float[]? Bias, float[] Upstream) RandomData(RandomCase c, Conv2DTransposeGeometry geometry)
    {
        var random = new Random(c.Seed);
        var x = RandomTensors.Uniform(random, geometry.InputElements);
        var kernel = RandomTensors.Uniform(random, geometry.KernelShape.ElementCount);
        float[]? bias = c.UseBias ? RandomTensors.Uniform(random, c.Filters) : null;
        return (x, kernel, bias, RandomTensors.Uniform(random, geometry.OutputElements));
    }

    internal static void CheckAgainstReference(DeconvDevice device, RandomCase c) => CheckAgainstReference(device, c, c.Options);

    /// <summary>Checks the layer built with <paramref name="options"/> (the case's, possibly with more arguments) against the reference.</summary>
    internal static void CheckAgainstReference(DeconvDevice device, RandomCase c, Conv2DTransposeOptions options)
    {
        using var layer = new Conv2DTranspose(device, options);
        var geometry = layer.GetGeometry(c.InputShape);
        var (x, kernel, bias, upstream) = RandomData(c, geometry);
        layer.SetWeights(kernel, bias);

        var reference = new ReferenceConv2DTranspose(geometry);
        var output = layer.Forward(x, c.InputShape);
        Tolerance.AssertClose(output, reference.Forward(x, kernel, bias, c.Activation), $"output of {c}");

        var gradInput = layer.Backward(upstream);
        var (gradKernel, gradBias) = layer.GetGradients();
        var expected = reference.Gradients(x, kernel, bias, c.Activation, upstream);
        // Activations without a closed-form reference derivative use a central difference (about 1e-9 relative).
        Tolerance.AssertClose(gradInput, expected.Input, $"grad_input of {c}", 1e-4, 1e-4);
        Tolerance.AssertClose(gradKernel, expected.Kernel, $"grad_kernel of {c}", 1e-4, 1e-4);
        if (c.UseBias)
        {
            Tolerance.AssertClose(gradBias, expected.Bias, $"grad_bias of {c}", 1e-4, 1e-4);
        }
    }
}
