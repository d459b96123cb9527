using System;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>Every invalid argument is refused with an exception naming it (the .NET name and the Keras name).</summary>
public sealed class Conv2DTransposeOptionsTests
{
    private static readonly Conv2DTransposeOptions Valid = new(filters: 4, kernelSize: 3);

    public static TestCaseData[] InvalidOptions =>
    [
        new TestCaseData(Valid with { Filters = 0 }, "Filters", "filters"),
        new TestCaseData(Valid with { Filters = -3 }, "Filters", "filters"),
        new TestCaseData(Valid with { KernelSize = 0 }, "KernelSize", "kernel_size"),
        new TestCaseData(Valid with { KernelSize = (3, -1) }, "KernelSize", "kernel_size"),
        new TestCaseData(Valid with { Strides = 0 }, "Strides", "strides"),
        new TestCaseData(Valid with { DilationRate = (1, 0) }, "DilationRate", "dilation_rate"),
        new TestCaseData(Valid with { Strides = 2, DilationRate = 2 }, "DilationRate", "dilation_rate"),
        new TestCaseData(Valid with { Strides = (2, 1), DilationRate = (1, 2) }, "DilationRate", "dilation_rate"),
        new TestCaseData(Valid with { Strides = 2, OutputPadding = 2 }, "OutputPadding", "output_padding"),
        new TestCaseData(Valid with { Strides = (3, 2), OutputPadding = (1, 2) }, "OutputPadding", "output_padding"),
        new TestCaseData(Valid with { OutputPadding = -1 }, "OutputPadding", "output_padding"),
        new TestCaseData(Valid with { Padding = (Padding)7 }, "Padding", "padding"),
        new TestCaseData(Valid with { DataFormat = (DataFormat)5 }, "DataFormat", "data_format"),
        new TestCaseData(Valid with { Activation = null! }, "Activation", "activation"),
        new TestCaseData(Valid with { KernelInitializer = null! }, "KernelInitializer", "kernel_initializer"),
        new TestCaseData(Valid with { Reuse = true }, "Reuse", "reuse"),
        new TestCaseData(Valid with { KernelConstraint = Constraint.MaxNorm(2f, 4) }, "KernelConstraint", "axis"),
    ];

    [TestCaseSource(nameof(InvalidOptions))]
    public void Invalid_options_are_refused_naming_the_argument(Conv2DTransposeOptions options, string parameter, string kerasName)
    {
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo(parameter));
            Assert.That(ex.Message, Does.Contain(kerasName));
        });
    }

    [TestCaseSource(nameof(InvalidOptions))]
    public void The_layer_refuses_invalid_options_at_construction(Conv2DTransposeOptions options, string parameter, string kerasName)
    {
        var device = Infrastructure.TestAccelerators.Any();
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DTranspose(device, options).Dispose());
        Assert.That(ex!.ParamName, Is.EqualTo(parameter), kerasName);
    }

    [Test]
    public void Defaults_are_Keras_defaults()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Valid.Strides, Is.EqualTo(new Size2D(1, 1)));
            Assert.That(Valid.Padding, Is.EqualTo(Padding.Valid));
            Assert.That(Valid.DataFormat, Is.EqualTo(DataFormat.ChannelsLast));
            Assert.That(Valid.DilationRate, Is.EqualTo(new Size2D(1, 1)));
            Assert.That(Valid.OutputPadding, Is.Null);
            Assert.That(Valid.Activation, Is.SameAs(Activation.Linear));
            Assert.That(Valid.UseBias, Is.True);
            Assert.That(Valid.KernelInitializer.Name, Is.EqualTo("glorot_uniform"));
            Assert.That(Valid.BiasInitializer.Name, Is.EqualTo("zeros"));
            Assert.That(Valid.Trainable, Is.True);
            Assert.That(Valid.Reuse, Is.False);
            Assert.That(Valid.KernelRegularizer ?? Valid.BiasRegularizer ?? Valid.ActivityRegularizer, Is.Null);
            Assert.That(Valid.KernelConstraint ?? Valid.BiasConstraint, Is.Null);
        });
        Assert.DoesNotThrow(Valid.Validate);
    }

    [TestCase("valid", Padding.Valid)]
    [TestCase("SAME", Padding.Same)]
    [TestCase("Same", Padding.Same)]
    [TestCase(" vAlId ", Padding.Valid)]
    public void Padding_text_is_case_insensitive(string text, Padding expected) =>
        Assert.That(KerasNames.ParsePadding(text), Is.EqualTo(expected));

    [TestCase("channels_last", DataFormat.ChannelsLast)]
    [TestCase("CHANNELS_FIRST", DataFormat.ChannelsFirst)]
    [TestCase("NCHW", DataFormat.ChannelsFirst)]
    [TestCase("nhwc", DataFormat.ChannelsLast)]
    public void Data_format_text_is_case_insensitive(string text, DataFormat expected) =>
        Assert.That(KerasNames.ParseDataFormat(text), Is.EqualTo(expected));

    [TestCase("full")]
    [TestCase("")]
    public void Unknown_padding_text_is_refused(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => KerasNames.ParsePadding(text));
        Assert.That(ex!.ParamName, Is.EqualTo("padding"));
    }

    [Test]
    public void Unknown_data_format_text_is_refused() =>
        Assert.That(Assert.Throws<ArgumentException>(() => KerasNames.ParseDataFormat("channels_middle"))!.ParamName, Is.EqualTo("dataFormat"));

    [Test]
    public void Int_and_tuple_arguments_convert_as_in_Keras()
    {
        Size2D fromInt = 3;
        Size2D fromTuple = (2, 5);
        Assert.Multiple(() =>
        {
            Assert.That(fromInt, Is.EqualTo(new Size2D(3, 3)));
            Assert.That(fromTuple, Is.EqualTo(new Size2D(2, 5)));
            Assert.That(fromTuple.ToString(), Is.EqualTo("(2, 5)"));
        });
    }

    [Test]
    public void ToString_says_what_decides_the_result_and_None_for_what_is_unset()
    {
        string keras = new Conv2DTransposeOptions(64, 4) { Strides = 2, Padding = Padding.Same }.ToString();
        string onnx = new Conv2DTransposeOptions(4, (3, 2)) { Pads = new Pads2D(3, 3, 0, 1), DilationRate = 2, Groups = 2, OutputPadding = (1, 0) }.ToString();
        string torch = Conv2DTransposeOptions.FromPyTorch(3, 4, 3, stride: 2, padding: 1).ToString();
        Assert.Multiple(() =>
        {
            Assert.That(keras, Does.Contain("padding = same").And.Contain("output_padding = None").And.Contain("name = None").And.Not.Contain("= ,"));
            Assert.That(onnx, Does.Contain("padding = pads (top 3, bottom 3, left 0, right 1)").And.Contain("dilation_rate = (2, 2)")
                .And.Contain("groups = 2").And.Contain("output_padding = (1, 0)"));
            Assert.That(torch, Does.Contain("padding = (1, 1) (PyTorch)").And.Contain("data_format = channels_first"));
        });
    }

    [Test]
    public void A_layers_ToString_gives_its_pads_dilation_groups_and_output_padding()
    {
        using var layer = new Conv2DTranspose(Infrastructure.TestAccelerators.Any(), new Conv2DTransposeOptions(4, (3, 2)) { Pads = new Pads2D(3, 3, 0, 0), DilationRate = (2, 1) });
        Assert.That(layer.ToString(), Does.Contain("padding=pads (top 3, bottom 3, left 0, right 0)").And.Contain("dilation_rate=(2, 1)")
            .And.Contain("groups=1").And.Contain("output_padding=None").And.Not.Contain("padding=valid"));
    }
}
