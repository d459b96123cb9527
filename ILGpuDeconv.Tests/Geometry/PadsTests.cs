using System;
using CsCheck;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Geometry;

/// <summary>
/// Padding per edge (<see cref="Conv2DTransposeOptions.Pads"/>: ONNX's <c>pads</c>, tf.nn's explicit padding): ONNX's
/// rules for <c>auto_pad</c> and <c>output_shape</c> as its specification writes them, shapes, refusals, and random
/// asymmetric and negative pads against the double-precision reference on every program family.
/// </summary>
public sealed class PadsTests
{
    // ONNX's specification: total = s*(n-1) + output_padding + ((k-1)*d + 1) - output; SAME_UPPER puts total/2 at the
    // start, the rest at the end; otherwise the other way round. Cases worked out by hand from that text.
    [TestCase(3, 3, 2, 1, 0, "SAME_UPPER", null, 0, 0, 0, 1, TestName = "SAME_UPPER, n3 k3 s2: output 6, the odd row cropped at the end")]
    [TestCase(3, 3, 2, 1, 0, "SAME_LOWER", null, 0, 0, 1, 0, TestName = "SAME_LOWER, n3 k3 s2: the odd row cropped at the start")]
    [TestCase(3, 3, 3, 1, 0, "NOTSET", 10, 0, 0, 0, -1, TestName = "NOTSET with output_shape 10, n3 k3 s3: total -1, one row past the end")]
    [TestCase(3, 3, 2, 1, 1, "NOTSET", 7, 0, 0, 1, 0, TestName = "NOTSET with output_shape 7 and output_padding 1: total 1, at the start")]
    [TestCase(3, 3, 2, 1, 0, "NOTSET", null, 1, 2, 1, 2, TestName = "NOTSET: the explicit pads")]
    [TestCase(3, 3, 2, 1, 0, "VALID", null, 1, 2, 0, 0, TestName = "VALID: no pads")]
    [TestCase(2, 2, 1, 1, 0, "SAME_UPPER", 6, 0, 0, -2, -1, TestName = "SAME_UPPER with output_shape 6, n2 k2 s1: total -3 floors to -2 at the start")]
    public void Onnx_pads_follow_its_specification(int n, int k, int s, int d, int outputPadding, string autoPad, int? outputShape, int begin, int end, int expectedBegin, int expectedEnd) =>
        Assert.That(Conv2DTransposeRules.OnnxPads(n, k, s, d, outputPadding, autoPad, outputShape, begin, end), Is.EqualTo((expectedBegin, expectedEnd)));

    [Test]
    public void Pads_set_the_crop_and_the_output_size()
    {
        var options = new Conv2DTransposeOptions(2, 3) { Strides = 2, Pads = new Pads2D(Top: 1, Bottom: 0, Left: 2, Right: -1) };
        var g = Conv2DTransposeGeometry.Create(options, new TensorShape(1, 4, 5, 3));
        Assert.Multiple(() =>
        {
            Assert.That(g.CropBegin, Is.EqualTo(new Size2D(1, 2)));
            Assert.That(g.OutputHeight, Is.EqualTo((3 * 2) + 3 - 1), "full 9, one row cropped at the top");
            Assert.That(g.OutputWidth, Is.EqualTo((4 * 2) + 3 - 2 + 1), "full 11, two columns cropped at the left, one added at the right");
            Assert.That(Pads2D.FromOnnx(1, 2, 3, 4), Is.EqualTo(new Pads2D(1, 3, 2, 4)), "ONNX's order is [top, left, bottom, right]");
        });
    }

    [Test]
    public void Conflicting_pads_are_refused_by_name() => Assert.Multiple(() =>
    {
        var pads = new Pads2D(1, 0, 0, 1);
        Assert.That(() => new Conv2DTransposeOptions(2, 3) { Pads = pads, Padding = Padding.Same }.Validate(), Throws.ArgumentException.With.Property("ParamName").EqualTo("Pads"));
        Assert.That(() => new Conv2DTransposeOptions(2, 3) { Pads = pads, ExplicitPadding = 1 }.Validate(), Throws.ArgumentException.With.Property("ParamName").EqualTo("Pads"));
        Assert.That(() => new Conv2DTransposeOptions(2, 3) { Pads = pads, Strides = 2, DilationRate = 2 }.Validate(), Throws.Nothing, "strides and dilations together, as ONNX allows");
        Assert.That(() => new Conv2DTransposeOptions(2, 3) { Pads = pads, Strides = 2, OutputPadding = 2 }.Validate(), Throws.ArgumentException.With.Property("ParamName").EqualTo("OutputPadding"));
        var tooMuch = new Conv2DTransposeOptions(2, 3) { Pads = new Pads2D(3, 3, 0, 0) };
        Assert.That(() => Conv2DTransposeGeometry.Create(tooMuch, new TensorShape(1, 2, 2, 1)), Throws.ArgumentException.With.Message.Contains("output length would be -2"));
        var size = new Conv2DTransposeOptions(2, 3) { Strides = 2, Pads = new Pads2D(1, 0, 1, 0) };
        Assert.That(Conv2DTransposeGeometry.Create(size with { OutputSize = (8, 9) }, new TensorShape(1, 4, 4, 1)).OutputShape, Is.EqualTo(new TensorShape(1, 8, 9, 2)), "TensorFlow's range: 8 to 9");
        Assert.That(() => Conv2DTransposeGeometry.Create(size with { OutputSize = (10, 8) }, new TensorShape(1, 4, 4, 1)), Throws.ArgumentException.With.Message.Contains("outside the valid lengths 8 to 9"));
    });

    /// <summary>
    /// Random configurations with pads from -2 to 3 per edge (so asymmetric and negative), half with strides and dilations
    /// together, 1 to 3 groups, a third of them with one input channel per group (depthwise, where groups are 2 or 3).
    /// </summary>
    private static Gen<(LayerMatchesReferenceTests.RandomCase Case, Pads2D Pads)> PadsConfigurations { get; } =
        from c0 in LayerMatchesReferenceTests.Configurations
        from both in Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[1, 2], Gen.Int[1, 2])
        from combine in Gen.Bool
        let c = combine ? c0 with { Strides = new Size2D(both.Item1, both.Item2), Dilation = new Size2D(both.Item3, both.Item4) } : c0
        from pads in Gen.Select(Gen.Int[-2, 3], Gen.Int[-2, 3], Gen.Int[-2, 3], Gen.Int[-2, 3])
        from groups in Gen.Int[1, 3]
        from depthwise in Gen.Int[0, 2]
        let perGroup = depthwise == 0 ? 1 : c.Channels
        select (c with { Padding = Padding.Valid, Channels = perGroup * groups, Filters = c.Filters * groups, Groups = groups },
            new Pads2D(pads.Item1, pads.Item2, pads.Item3, pads.Item4));

    [Test]
    public void Random_pads_match_the_reference(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind, [Values("direct", "tiled", "tensor cores")] string programs)
    {
        var device = programs switch
        {
            "tiled" => TestAccelerators.RequireTiled(kind),
            "tensor cores" => TestAccelerators.RequireTensorCores(kind),
            _ => TestAccelerators.Require(kind),
        };
        int checkedCases = 0, negative = 0, depthwise = 0;
        PadsConfigurations.Sample(
            t =>
            {
                var (c, pads) = t;
                var options = c.Options with { Pads = pads, Precision = programs == "tensor cores" ? ConvolutionPrecision.TensorFloat32 : ConvolutionPrecision.Float32 };
                try
                {
                    options.Validate();
                    Conv2DTransposeGeometry.Create(options, c.InputShape);
                }
                catch (ArgumentException)
                {
                    return; // refused (tested above); nothing to compare
                }

                if (programs == "tensor cores")
                {
                    TensorFloat32Check(device, c, options);
                }
                else
                {
                    LayerMatchesReferenceTests.CheckAgainstReference(device, c, options);
                }

                checkedCases++;
                negative += Math.Min(Math.Min(pads.Top, pads.Bottom), Math.Min(pads.Left, pads.Right)) < 0 ? 1 : 0;
                depthwise += c.Groups > 1 && c.Channels == c.Groups ? 1 : 0;
            },
            iter: kind == AcceleratorKind.Cpu && programs != "direct" ? (programs == "tiled" ? 50 : 20) : 120, // the CPU accelerator emulates the tiled loops slowly
            threads: 1,
            seed: "0OnnxPads001");
        TestContext.Out.WriteLine($"{checkedCases} configurations, {negative} with a negative pad, {depthwise} depthwise");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(12));
        Assert.That(negative, Is.GreaterThanOrEqualTo(5));
        Assert.That(depthwise, Is.GreaterThanOrEqualTo(2), "the depthwise programs among them");
    }

    /// <summary>The TF32 reference of the tensor-core tests: operands rounded to TF32, sums in double.</summary>
    private static void TensorFloat32Check(DeconvDevice device, LayerMatchesReferenceTests.RandomCase c, Conv2DTransposeOptions options) =>
        ConvolutionPrecisionTests.CheckAgainstTf32Reference(device, c, options);
}
