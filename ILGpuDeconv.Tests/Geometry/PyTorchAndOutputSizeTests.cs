using System;
using System.Linq;
using CsCheck;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Geometry;

/// <summary>
/// PyTorch's padding and output_size rules and TensorFlow's explicit output_shape: shapes and refusals as the
/// frameworks state them (values from PyTorch's and TensorFlow's documented formulas and error messages), and random
/// PyTorch configurations against the double-precision reference on every accelerator.
/// </summary>
public sealed class PyTorchAndOutputSizeTests
{
    [Test]
    public void FromPyTorch_gives_PyTorchs_shapes_layout_and_initialization()
    {
        var options = Conv2DTransposeOptions.FromPyTorch(inChannels: 3, outChannels: 4, kernelSize: (3, 2), stride: 2, padding: (1, 0), outputPadding: (1, 1));
        var geometry = Conv2DTransposeGeometry.Create(options, new TensorShape(2, 3, 5, 4));
        Assert.Multiple(() =>
        {
            // (n - 1)*s - 2p + k + op: (4*2 - 2 + 3 + 1, 3*2 - 0 + 2 + 1)
            Assert.That(geometry.OutputShape, Is.EqualTo(new TensorShape(2, 4, 10, 9)));
            Assert.That(geometry.CropBegin, Is.EqualTo(new Size2D(1, 0)));
            Assert.That(options.DataFormat, Is.EqualTo(DataFormat.ChannelsFirst));
            Assert.That(options.BiasInitializer.Name, Is.EqualTo("random_uniform"));
            Assert.That(Conv2DTransposeOptions.FromPyTorch(4, 6, 3, groups: 2).Groups, Is.EqualTo(2));
            Assert.That(() => Conv2DTransposeOptions.FromPyTorch(4, 6, 3, groups: 3), Throws.ArgumentException.With.Property("ParamName").EqualTo("groups"));
            Assert.That(
                Conv2DTransposeGeometry.Create(Conv2DTransposeOptions.FromPyTorch(4, 6, 3, groups: 2), new TensorShape(1, 4, 5, 5)).KernelShape,
                Is.EqualTo(new TensorShape(3, 3, 3, 4)), "Keras layout [kh, kw, out / groups, in], PyTorch's [in, out / groups, kh, kw] transposed");
        });

        // PyTorch's default init: uniform within 1/sqrt(out * kh * kw) for the weights (kaiming_uniform, a=sqrt(5)) and the bias.
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), options with { Name = "pytorch_init" });
        layer.Build(3);
        var (kernel, bias) = layer.GetWeights();
        double limit = 1 / Math.Sqrt(4 * 3 * 2);
        Assert.Multiple(() =>
        {
            Assert.That(kernel.Max(Math.Abs), Is.LessThanOrEqualTo(limit).And.GreaterThan(0.8 * limit));
            Assert.That(bias!.Max(Math.Abs), Is.LessThanOrEqualTo(limit));
        });
    }

    [TestCase(4, 3, 2, 1, 7, true)]    // PyTorch: valid sizes 7 to 8
    [TestCase(4, 3, 2, 1, 8, true)]
    [TestCase(4, 3, 2, 1, 6, false)]
    [TestCase(4, 3, 2, 1, 9, false)]
    [TestCase(3, 4, 3, 1, 10, true)]   // valid sizes 8 to 10
    public void PyTorch_output_size_is_accepted_in_its_range(int n, int k, int s, int p, int size, bool accepted)
    {
        var options = Conv2DTransposeOptions.FromPyTorch(1, 1, k, stride: s, padding: p) with { OutputPadding = null, OutputSize = (size, size) };
        var create = () => Conv2DTransposeGeometry.Create(options, new TensorShape(1, 1, n, n));
        if (accepted)
        {
            var g = create();
            Assert.That((g.OutputHeight, g.CropBegin.Height), Is.EqualTo((size, p)));
        }
        else
        {
            Assert.That(create, Throws.ArgumentException.With.Message.Contains("PyTorch refuses").And.Message.Contains($"requested output length {size}"));
        }
    }

    [TestCase(Padding.Same, 7, true, 1)]   // TensorFlow: ceil(out / 2) == 4
    [TestCase(Padding.Same, 8, true, 0)]
    [TestCase(Padding.Same, 9, false, 0)]
    [TestCase(Padding.Valid, 9, true, 0)]  // (out - 3) / 2 + 1 == 4
    [TestCase(Padding.Valid, 10, true, 0)]
    [TestCase(Padding.Valid, 8, false, 0)]
    public void TensorFlow_output_shape_is_accepted_when_it_maps_back_to_the_input(Padding padding, int size, bool accepted, int crop)
    {
        var options = new Conv2DTransposeOptions(1, 3) { Strides = 2, Padding = padding, OutputSize = (size, size) };
        var create = () => Conv2DTransposeGeometry.Create(options, new TensorShape(1, 4, 4, 1));
        if (accepted)
        {
            var g = create();
            Assert.That((g.OutputHeight, g.CropBegin.Height), Is.EqualTo((size, crop)), "crop: (3*2 + 3 - out) / 2, the odd remainder at the end");
        }
        else
        {
            Assert.That(create, Throws.ArgumentException.With.Message.Contains("TensorFlow refuses"));
        }
    }

    [Test]
    public void Conflicting_padding_arguments_are_refused_by_name()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new Conv2DTransposeOptions(2, 3) { Padding = Padding.Same, ExplicitPadding = 1 }.Validate(),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("ExplicitPadding"));
            Assert.That(() => new Conv2DTransposeOptions(2, 3) { ExplicitPadding = -1 }.Validate(),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("ExplicitPadding"));
            Assert.That(() => new Conv2DTransposeOptions(2, 3) { OutputSize = 8, OutputPadding = 0, Strides = 2 }.Validate(),
                Throws.ArgumentException.With.Property("ParamName").EqualTo("OutputSize"));
            Assert.That(() => new Conv2DTransposeOptions(2, 3) { ExplicitPadding = 0, DilationRate = 3, OutputPadding = 2 }.Validate(), Throws.Nothing, "PyTorch: output_padding < dilation");
            Assert.That(() => new Conv2DTransposeOptions(2, 3) { DilationRate = 3, OutputPadding = 2 }.Validate(), Throws.ArgumentException, "Keras: output_padding < stride");
        });
    }

    /// <summary>Random PyTorch configurations: explicit padding, output padding under the stride or dilation, or an output size; half with strides and dilations together; 1 to 3 groups.</summary>
    private static Gen<(LayerMatchesReferenceTests.RandomCase Case, Size2D Padding, Size2D? OutputSize)> PyTorchConfigurations { get; } =
        from c0 in LayerMatchesReferenceTests.Configurations
        from both in Gen.Select(Gen.Int[1, 4], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[1, 3])
        from combine in Gen.Bool
        let c = combine ? c0 with { Strides = new Size2D(both.Item1, both.Item2), Dilation = new Size2D(both.Item3, both.Item4) } : c0
        from padding in Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2])
        from groups in Gen.Int[1, 3]
        from sizeExtra in Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2])
        from useSize in Gen.Bool
        select (c with { Padding = ILGpuDeconv.Padding.Valid, OutputPadding = useSize ? null : c.OutputPadding ?? new Size2D(0), Channels = c.Channels * groups, Filters = c.Filters * groups, Groups = groups },
            new Size2D(padding.Item1, padding.Item2), useSize ? (Size2D?)new Size2D(sizeExtra.Item1, sizeExtra.Item2) : null);

    [Test]
    public void Random_PyTorch_configurations_match_the_reference(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind, [Values(false, true)] bool tiled)
    {
        var device = tiled ? TestAccelerators.RequireTiled(kind) : TestAccelerators.Require(kind);
        int checkedCases = 0;
        PyTorchConfigurations.Sample(
            t =>
            {
                var (c, padding, extra) = t;
                var options = c.Options with { ExplicitPadding = padding };
                if (extra is Size2D add)
                {
                    // An output size inside PyTorch's range: the smallest output plus less than the stride.
                    int h = c.Height, w = c.Width;
                    long smallestH = Conv2DTransposeRules.PyTorchOutputLength(h, c.Kernel.Height, c.Strides.Height, c.Dilation.Height, padding.Height, 0);
                    long smallestW = Conv2DTransposeRules.PyTorchOutputLength(w, c.Kernel.Width, c.Strides.Width, c.Dilation.Width, padding.Width, 0);
                    options = options with { OutputSize = new Size2D((int)smallestH + (add.Height % c.Strides.Height), (int)smallestW + (add.Width % c.Strides.Width)) };
                }

                try
                {
                    options.Validate();
                    Conv2DTransposeGeometry.Create(options, c.InputShape);
                }
                catch (ArgumentException)
                {
                    return; // refused as PyTorch refuses (tested above); nothing to compare
                }

                LayerMatchesReferenceTests.CheckAgainstReference(device, c, options);
                checkedCases++;
            },
            iter: kind == AcceleratorKind.Cpu && tiled ? 40 : 120,
            threads: 1,
            seed: "0PyTorchRul1");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(25));
    }
}

/// <summary>The README's pair: the same upsampler from Keras's arguments and from PyTorch's.</summary>
public sealed class KerasAndPyTorchArgumentsTests
{
    [Test]
    public void The_same_upsampler_from_Keras_and_PyTorch_arguments_computes_the_same()
    {
        var keras = new Conv2DTransposeOptions(filters: 6, kernelSize: 4) { Strides = 2, Padding = Padding.Same, DataFormat = DataFormat.ChannelsFirst, Name = "from_keras" };
        var torch = Conv2DTransposeOptions.FromPyTorch(inChannels: 5, outChannels: 6, kernelSize: 4, stride: 2, padding: 1) with { Name = "from_torch" };
        var shape = new TensorShape(2, 5, 7, 6);
        var x = RandomTensors.Uniform(new Random(8), shape.ElementCount);
        using var a = new Conv2DTranspose(TestAccelerators.Any(), keras);
        using var b = new Conv2DTranspose(TestAccelerators.Any(), torch);
        a.Build(5);
        b.Build(5);
        var (kernel, bias) = a.GetWeights();
        b.SetWeights(kernel, bias);
        Assert.That(b.Forward(x, shape), Is.EqualTo(a.Forward(x, shape)));

        // With a 3x3 kernel the frameworks differ: Keras crops the odd row at the end, PyTorch at both ends.
        var keras3 = Conv2DTransposeGeometry.Create(keras with { KernelSize = 3 }, shape);
        var torch3 = Conv2DTransposeGeometry.Create(Conv2DTransposeOptions.FromPyTorch(5, 6, 3, stride: 2, padding: 1, outputPadding: 1), shape);
        Assert.Multiple(() =>
        {
            Assert.That(torch3.OutputShape, Is.EqualTo(keras3.OutputShape));
            Assert.That((keras3.CropBegin.Height, torch3.CropBegin.Height), Is.EqualTo((0, 1)));
        });
    }
}
