using System;

namespace ILGpuDeconv;

/// <summary>
/// The immutable description of a transposed-convolution layer: every argument of TensorFlow's
/// <c>tf.layers.conv2d_transpose</c> and Keras's <c>Conv2DTranspose</c>, under .NET names with the Keras
/// name given in each member's documentation. Defaults are Keras's. <see cref="Validate"/> checks the
/// arguments as Keras and TensorFlow do; the layer calls it when constructed.
/// </summary>
public sealed partial record Conv2DTransposeOptions
{
    /// <summary>Creates options with the two arguments Keras requires.</summary>
    /// <param name="filters">Keras <c>filters</c>: the number of output channels.</param>
    /// <param name="kernelSize">Keras <c>kernel_size</c>: an int or a (height, width) pair.</param>
    public Conv2DTransposeOptions(int filters, Size2D kernelSize)
    {
        Filters = filters;
        KernelSize = kernelSize;
    }

    /// <summary>Gets Keras <c>filters</c>: the number of output channels.</summary>
    public int Filters { get; init; }

    /// <summary>Gets Keras <c>kernel_size</c>: the (height, width) of the kernel.</summary>
    public Size2D KernelSize { get; init; }

    /// <summary>Gets Keras <c>strides</c> (default 1).</summary>
    public Size2D Strides { get; init; } = 1;

    /// <summary>Gets Keras <c>padding</c> (default <c>valid</c>). Text forms parse with <see cref="KerasNames.ParsePadding"/>.</summary>
    public Padding Padding { get; init; } = Padding.Valid;

    /// <summary>Gets Keras <c>data_format</c> (default <c>channels_last</c>).</summary>
    public DataFormat DataFormat { get; init; } = DataFormat.ChannelsLast;

    /// <summary>Gets Keras <c>dilation_rate</c> (default 1). Keras refuses a dilation above 1 together with a stride above 1.</summary>
    public Size2D DilationRate { get; init; } = 1;

    /// <summary>
    /// Gets Keras <c>output_padding</c> (default null). Null lets Keras infer the output size; a value, even
    /// (0, 0), switches to the explicit formula, so null and (0, 0) can give different shapes.
    /// Each component must be smaller than the stride on its axis.
    /// </summary>
    public Size2D? OutputPadding { get; init; }

    /// <summary>
    /// Gets PyTorch's <c>padding</c> of <c>ConvTranspose2d</c> (default null: Keras's <see cref="Padding"/> applies): the rows
    /// cropped at the top and at the bottom of the full result, and the columns at the left and right. With it the
    /// output length is <c>(n - 1)*s - 2*p + (k - 1)*d + 1 + output_padding</c>, and <see cref="OutputPadding"/> (null
    /// meaning 0) must be smaller than the stride or the dilation, as PyTorch requires. <see cref="Padding"/> must then
    /// stay at its default, valid.
    /// </summary>
    public Size2D? ExplicitPadding { get; init; }

    /// <summary>
    /// Gets padding per edge (default null): ONNX's <c>pads</c> and <c>tf.nn.conv2d_transpose</c>'s explicit padding, which
    /// may differ at the two ends of an axis, and may be negative (rows past the end of the full result, reached only by
    /// the bias). The output length is <c>(n - 1)*s + (k - 1)*d + 1 + output_padding - begin - end</c>; with
    /// <see cref="OutputSize"/> instead, TensorFlow's rule: the forward convolution of the output with these pads gives the
    /// input size back. <see cref="OutputPadding"/> (null meaning 0) must be smaller than the stride or the dilation,
    /// <see cref="Padding"/> must stay valid and <see cref="ExplicitPadding"/> null. <c>Geometry/Conv2DTransposeRules</c>
    /// turns ONNX's <c>auto_pad</c> and <c>output_shape</c> into pads (<see cref="Conv2DTransposeRules.OnnxPads"/>).
    /// </summary>
    public Pads2D? Pads { get; init; }

    /// <summary>
    /// Gets an explicit output size (height, width), as <c>tf.nn.conv2d_transpose(output_shape=...)</c> and PyTorch's
    /// <c>forward(input, output_size)</c> take it (default null: the size follows from the other arguments). TensorFlow's
    /// rule applies with <see cref="Padding"/>: the size is accepted when the forward convolution of it gives the input
    /// size back; PyTorch's with <see cref="ExplicitPadding"/>: it must lie in <c>[m, m + s - 1]</c> for the smallest
    /// output <c>m</c>. <see cref="OutputPadding"/> must be null with it.
    /// </summary>
    public Size2D? OutputSize { get; init; }

    /// <summary>
    /// Gets PyTorch's <c>groups</c> (default 1; Keras's Conv2DTranspose has none): the input channels and the filters
    /// are split into this many groups, and each filter sees only its group's channels (depthwise when it equals the
    /// channels). The kernel is then <c>[kh, kw, filters / groups, in_channels]</c>; <see cref="Filters"/> and the input's
    /// channels must be multiples of it.
    /// </summary>
    public int Groups { get; init; } = 1;

    /// <summary>Gets Keras <c>activation</c> (default linear, which is what Keras's None means).</summary>
    public Activation Activation { get; init; } = Activation.Linear;

    /// <summary>Gets Keras <c>use_bias</c> (default true).</summary>
    public bool UseBias { get; init; } = true;

    /// <summary>Gets Keras <c>kernel_initializer</c> (default <c>glorot_uniform</c>).</summary>
    public Initializer KernelInitializer { get; init; } = Initializer.GlorotUniform();

    /// <summary>Gets Keras <c>bias_initializer</c> (default <c>zeros</c>).</summary>
    public Initializer BiasInitializer { get; init; } = Initializer.Zeros();

    /// <summary>Gets Keras <c>kernel_regularizer</c> (default none).</summary>
    public Regularizer? KernelRegularizer { get; init; }

    /// <summary>Gets Keras <c>bias_regularizer</c> (default none).</summary>
    public Regularizer? BiasRegularizer { get; init; }

    /// <summary>
    /// Gets Keras <c>activity_regularizer</c> (default none): a penalty on the layer's output. As in
    /// TensorFlow's layers, the penalty is divided by the batch size.
    /// </summary>
    public Regularizer? ActivityRegularizer { get; init; }

    /// <summary>Gets Keras <c>kernel_constraint</c> (default none), applied after each optimizer step.</summary>
    public Constraint? KernelConstraint { get; init; }

    /// <summary>Gets Keras <c>bias_constraint</c> (default none), applied after each optimizer step.</summary>
    public Constraint? BiasConstraint { get; init; }

    /// <summary>Gets Keras <c>trainable</c> (default true). When false the backward pass computes no weight gradients.</summary>
    public bool Trainable { get; init; } = true;

    /// <summary>
    /// Gets the arithmetic of the convolutions (default <see cref="ConvolutionPrecision.Float32"/>, TensorFlow's
    /// results); <see cref="ConvolutionPrecision.TensorFloat32"/> is TensorFlow's and PyTorch's TF32 switch. Not a Keras argument.
    /// </summary>
    public ConvolutionPrecision Precision { get; init; } = ConvolutionPrecision.Float32;

    /// <summary>Gets TensorFlow's <c>name</c>: the layer's name, and the key under which <see cref="Reuse"/> finds its weights.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Gets TensorFlow's <c>reuse</c> (default false): when true, the layer shares the weights of the
    /// existing layer with the same <see cref="Name"/> on the same device.
    /// </summary>
    public bool Reuse { get; init; }

    /// <summary>Checks every argument as Keras and TensorFlow do.</summary>
    /// <exception cref="ArgumentException">An argument is invalid; the exception names it (parameter name and Keras name).</exception>
    public void Validate()
    {
        if (Filters < 1)
        {
            throw Invalid(nameof(Filters), "filters", $"must be at least 1; got {Filters}.");
        }

        if (Groups < 1 || Filters % Groups != 0)
        {
            throw new ArgumentException($"Groups (PyTorch groups) must be at least 1 and divide Filters; got groups={Groups}, filters={Filters}.", nameof(Groups));
        }

        RequirePositive(KernelSize, nameof(KernelSize), "kernel_size");
        RequirePositive(Strides, nameof(Strides), "strides");
        RequirePositive(DilationRate, nameof(DilationRate), "dilation_rate");
        if (!Enum.IsDefined(Padding))
        {
            throw Invalid(nameof(Padding), "padding", $"must be valid or same; got {(int)Padding}.");
        }

        if (!Enum.IsDefined(DataFormat))
        {
            throw Invalid(nameof(DataFormat), "data_format", $"must be channels_last or channels_first; got {(int)DataFormat}.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentException($"Precision must be Float32 or TensorFloat32; got {(int)Precision}.", nameof(Precision));
        }

        if (ExplicitPadding is null && Pads is null && Math.Max(Strides.Height, Strides.Width) > 1 && Math.Max(DilationRate.Height, DilationRate.Width) > 1)
        {
            throw Invalid(
                nameof(DilationRate),
                "dilation_rate",
                $"above 1 cannot be combined with strides above 1 (as in Keras; PyTorch allows it: use ExplicitPadding); got strides={Strides}, dilation_rate={DilationRate}.");
        }

        if (ExplicitPadding is Size2D explicitPadding)
        {
            if (Padding != Padding.Valid)
            {
                throw new ArgumentException(
                    $"ExplicitPadding (PyTorch padding) {explicitPadding} and Padding (Keras padding) {Padding.ToKerasName()} cannot both be given; leave Padding at valid.",
                    nameof(ExplicitPadding));
            }

            if (explicitPadding.Height < 0 || explicitPadding.Width < 0)
            {
                throw new ArgumentException($"ExplicitPadding (PyTorch padding) must not be negative; got {explicitPadding}.", nameof(ExplicitPadding));
            }
        }

        if (Pads is Pads2D pads && (Padding != Padding.Valid || ExplicitPadding is not null))
        {
            throw new ArgumentException(
                $"Pads ({pads}) cannot be combined with {(ExplicitPadding is not null ? $"ExplicitPadding {ExplicitPadding}" : $"Padding {Padding.ToKerasName()}")}; leave Padding at valid and ExplicitPadding null.",
                nameof(Pads));
        }

        if (OutputSize is Size2D outputSize)
        {
            RequirePositive(outputSize, nameof(OutputSize), "output_shape");
            if (OutputPadding is not null)
            {
                throw new ArgumentException($"OutputSize {outputSize} and OutputPadding {OutputPadding} cannot both be given: the output size decides the padding.", nameof(OutputSize));
            }
        }

        if (OutputPadding is Size2D outputPadding)
        {
            if (outputPadding.Height < 0 || outputPadding.Width < 0)
            {
                throw Invalid(nameof(OutputPadding), "output_padding", $"must not be negative; got {outputPadding}.");
            }

            if (ExplicitPadding is not null || Pads is not null)
            {
                // PyTorch (and ONNX Runtime): output_padding must be smaller than either the stride or the dilation.
                if (outputPadding.Height >= Math.Max(Strides.Height, DilationRate.Height) || outputPadding.Width >= Math.Max(Strides.Width, DilationRate.Width))
                {
                    throw Invalid(
                        nameof(OutputPadding),
                        "output_padding",
                        $"must be smaller than the stride or the dilation on each axis (as in PyTorch); got output_padding={outputPadding}, strides={Strides}, dilation={DilationRate}.");
                }
            }
            else if (outputPadding.Height >= Strides.Height || outputPadding.Width >= Strides.Width)
            {
                throw Invalid(
                    nameof(OutputPadding),
                    "output_padding",
                    $"must be smaller than the stride on each axis (as in Keras); got output_padding={outputPadding}, strides={Strides}.");
            }
        }

        if (Activation is null)
        {
            throw Invalid(nameof(Activation), "activation", "must not be null; use Activation.Linear for none.");
        }

        if (KernelInitializer is null)
        {
            throw Invalid(nameof(KernelInitializer), "kernel_initializer", "must not be null.");
        }

        if (BiasInitializer is null)
        {
            throw Invalid(nameof(BiasInitializer), "bias_initializer", "must not be null.");
        }

        KernelConstraint?.AxisMask(4, nameof(KernelConstraint));
        BiasConstraint?.AxisMask(1, nameof(BiasConstraint));
        if (Reuse && string.IsNullOrEmpty(Name))
        {
            throw Invalid(nameof(Reuse), "reuse", "needs a name: reuse shares the weights of the layer with the same name.");
        }
    }

    private static void RequirePositive(Size2D value, string parameter, string kerasName)
    {
        if (value.Height < 1 || value.Width < 1)
        {
            throw Invalid(parameter, kerasName, $"must be at least 1 on both axes; got {value}.");
        }
    }

    private static ArgumentException Invalid(string parameter, string kerasName, string problem) =>
        new($"{parameter} (Keras {kerasName}) {problem}", parameter);

    /// <summary>
    /// The members for <see cref="object.ToString"/>, in Keras's words where they are Keras's: what decides the
    /// result (padding of whichever kind, dilation, groups, output padding) with <c>None</c> for what is unset.
    /// </summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        static string Or<T>(T? value)
            where T : struct => value?.ToString() ?? "None";
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"filters = {Filters}, kernel_size = {KernelSize}, strides = {Strides}, padding = {PaddingText()}, data_format = {DataFormat.ToKerasName()}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"dilation_rate = {DilationRate}, output_padding = {Or(OutputPadding)}, output_size = {Or(OutputSize)}, groups = {Groups}, activation = {Activation?.Name ?? "None"}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"use_bias = {UseBias}, kernel_initializer = {KernelInitializer?.ToString() ?? "None"}, bias_initializer = {BiasInitializer?.ToString() ?? "None"}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"kernel_regularizer = {KernelRegularizer?.ToString() ?? "None"}, bias_regularizer = {BiasRegularizer?.ToString() ?? "None"}, activity_regularizer = {ActivityRegularizer?.ToString() ?? "None"}, ");
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"kernel_constraint = {KernelConstraint?.ToString() ?? "None"}, bias_constraint = {BiasConstraint?.ToString() ?? "None"}, trainable = {Trainable}, precision = {Precision}, name = {Name ?? "None"}, reuse = {Reuse}");
        return true;
    }

    /// <summary>The padding that decides the result: ONNX/tf.nn pads per edge, else PyTorch's padding, else Keras's same or valid.</summary>
    internal string PaddingText() =>
        Pads is { } p ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"pads (top {p.Top}, bottom {p.Bottom}, left {p.Left}, right {p.Right})")
        : ExplicitPadding is { } e ? $"{e} (PyTorch)"
        : Padding.ToKerasName();
}
