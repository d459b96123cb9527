using System;
using System.Linq;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Tests.Golden;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Geometry;

/// <summary>The shape rules against values worked out by hand from Keras's and TensorFlow's definitions, and against TF.js.</summary>
public sealed class Conv2DTransposeRulesTests
{
    // (n, k, s, d, padding, output_padding) -> output length, each worked out from Keras's deconv_output_length.
    [TestCase(5, 3, 2, 1, Padding.Valid, null, 11)]   // 5*2 + max(3-2, 0)
    [TestCase(5, 3, 2, 1, Padding.Same, null, 10)]    // 5*2
    [TestCase(4, 1, 3, 1, Padding.Valid, null, 12)]   // k < s: 4*3 + 0
    [TestCase(4, 3, 1, 2, Padding.Valid, null, 8)]    // k_eff = 5: 4 + 4
    [TestCase(4, 3, 2, 1, Padding.Same, 0, 7)]        // (4-1)*2 + 3 - 2*1 + 0: differs from None (8)
    [TestCase(4, 3, 2, 1, Padding.Same, 1, 8)]
    [TestCase(4, 4, 2, 1, Padding.Same, 1, 7)]        // (4-1)*2 + 4 - 2*2 + 1
    [TestCase(3, 2, 3, 1, Padding.Valid, 2, 10)]      // (3-1)*3 + 2 + 2
    public void Output_length_follows_Keras(int n, int k, int s, int d, Padding padding, int? outputPadding, int expected) =>
        Assert.That(Conv2DTransposeRules.OutputLength(n, k, s, d, padding, outputPadding), Is.EqualTo(expected));

    // docs/CONFORMANCE-FORMAT.md's examples: k=4,s=2 crops 1 and 1; k=3,s=2 crops 0 and 1; k=5,s=2 crops 1 and 2.
    [TestCase(4, 2, 1, 1)]
    [TestCase(3, 2, 0, 1)]
    [TestCase(5, 2, 1, 2)]
    public void Same_crops_the_odd_remainder_at_the_end(int k, int s, int begin, int end)
    {
        const int n = 6;
        long outLength = Conv2DTransposeRules.OutputLength(n, k, s, 1, Padding.Same, null);
        long full = ((n - 1) * s) + k;
        long cropBegin = Conv2DTransposeRules.CropBegin(n, outLength, k, s, 1, Padding.Same);
        Assert.Multiple(() =>
        {
            Assert.That(cropBegin, Is.EqualTo(begin));
            Assert.That(full - outLength - cropBegin, Is.EqualTo(end));
        });
    }

    [Test]
    public void Valid_never_crops() =>
        Assert.That(Conv2DTransposeRules.CropBegin(5, 11, 3, 2, 1, Padding.Valid), Is.Zero);

    [TestCase(4, 2, 1, 1, Padding.Same, 0)]    // even k_eff, same, output_padding 0: maps back to 3, not 4
    [TestCase(3, 2, 3, 1, Padding.Same, 0)]    // out 6 maps back to 2
    [TestCase(1, 2, 1, 1, Padding.Same, 0)]    // out 0
    [TestCase(4, 2, 1, 3, Padding.Same, 0)]    // dilated even k_eff (4)
    public void TensorFlow_refuses_outputs_that_do_not_map_back(int n, int k, int s, int d, Padding padding, int outputPadding)
    {
        long length = Conv2DTransposeRules.OutputLength(n, k, s, d, padding, outputPadding);
        Assert.That(Conv2DTransposeRules.CheckAxis(n, length, k, s, d, padding), Is.Not.Null);
    }

    [Test]
    public void Geometry_gives_the_shape_and_crop_TensorFlow_gave_for_every_golden_case()
    {
        var cases = GoldenCaseTests.CaseFiles().SelectMany(ConformanceCase.Load).ToList();
        Assert.That(cases, Is.Not.Empty);
        foreach (var c in cases)
        {
            var geometry = Conv2DTransposeGeometry.Create(c.Options, c.InputShape);
            Assert.That(geometry.OutputShape, Is.EqualTo(c.OutputShape), c.Describe());
            if (c.CropBegin is { } crop)
            {
                Assert.That(geometry.CropBegin, Is.EqualTo(new Size2D(crop.Top, crop.Left)), c.Describe());
            }
        }
    }

    [Test]
    public void Channels_first_puts_channels_second()
    {
        var options = new Conv2DTransposeOptions(7, 3) { Strides = 2, DataFormat = DataFormat.ChannelsFirst };
        var geometry = Conv2DTransposeGeometry.Create(options, new TensorShape(2, 5, 4, 6));
        Assert.Multiple(() =>
        {
            Assert.That(geometry.InputChannels, Is.EqualTo(5));
            Assert.That(geometry.OutputShape, Is.EqualTo(new TensorShape(2, 7, 9, 13)));
            Assert.That(geometry.KernelShape, Is.EqualTo(new TensorShape(3, 3, 7, 5)));
        });
    }

    [Test]
    public void Refused_geometry_names_the_argument_and_the_shapes()
    {
        var options = new Conv2DTransposeOptions(2, 2) { Padding = Padding.Same, OutputPadding = 0 };
        var ex = Assert.Throws<ArgumentException>(() => Conv2DTransposeGeometry.Create(options, new TensorShape(1, 4, 4, 3), "input"));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo("input"));
            Assert.That(ex.Message, Does.Contain("[1, 4, 4, 3]").And.Contain("TensorFlow refuses"));
        });
    }

    [Test]
    public void Wrong_rank_is_refused_with_the_layout()
    {
        var ex = Assert.Throws<ArgumentException>(() => Conv2DTransposeGeometry.Create(new Conv2DTransposeOptions(2, 2), new TensorShape(4, 4, 3), "input"));
        Assert.That(ex!.Message, Does.Contain("rank 4").And.Contain("[4, 4, 3]").And.Contain("[N, H, W, C]"));
    }

    [Test]
    public void Tensors_beyond_32_bit_indexing_are_refused()
    {
        var options = new Conv2DTransposeOptions(64, 4) { Strides = 4 };
        var ex = Assert.Throws<ArgumentException>(() => Conv2DTransposeGeometry.Create(options, new TensorShape(64, 512, 512, 1), "input"));
        Assert.That(ex!.Message, Does.Contain("32-bit"));
    }

    [Test]
    public void Flops_count_every_multiply_add_twice() =>
        Assert.That(
            Conv2DTransposeGeometry.Create(new Conv2DTransposeOptions(128, 4) { Strides = 2, Padding = Padding.Same }, new TensorShape(16, 8, 8, 256)).Flops,
            Is.EqualTo(2.0 * 16 * 8 * 8 * 256 * 128 * 4 * 4));
}
