using System;

namespace ILGpuDeconv;

/// <summary>
/// Every size of one transposed convolution: the layer's options applied to an input shape, with
/// TensorFlow's output size and crop. Created by <see cref="Create"/>, which refuses what TensorFlow
/// refuses; the GPU programs, the tests and the benchmarks all take their sizes from here.
/// </summary>
public sealed record Conv2DTransposeGeometry
{
    private Conv2DTransposeGeometry()
    {
    }

    /// <summary>Gets the batch size N.</summary>
    public int Batch { get; private init; }

    /// <summary>Gets the input height H.</summary>
    public int InputHeight { get; private init; }

    /// <summary>Gets the input width W.</summary>
    public int InputWidth { get; private init; }

    /// <summary>Gets the input channel count C.</summary>
    public int InputChannels { get; private init; }

    /// <summary>Gets the output channel count F (Keras <c>filters</c>).</summary>
    public int Filters { get; private init; }

    /// <summary>Gets the output height.</summary>
    public int OutputHeight { get; private init; }

    /// <summary>Gets the output width.</summary>
    public int OutputWidth { get; private init; }

    /// <summary>Gets the kernel size.</summary>
    public Size2D KernelSize { get; private init; }

    /// <summary>Gets the strides.</summary>
    public Size2D Strides { get; private init; }

    /// <summary>Gets the dilation rate.</summary>
    public Size2D DilationRate { get; private init; }

    /// <summary>Gets how many leading rows and columns of the full transposed result are cropped.</summary>
    public Size2D CropBegin { get; private init; }

    /// <summary>Gets the data format of the input and output tensors.</summary>
    public DataFormat DataFormat { get; private init; }

    /// <summary>Gets the input shape in the data format's order.</summary>
    public TensorShape InputShape => Shape(InputChannels, InputHeight, InputWidth);

    /// <summary>Gets the output shape in the data format's order.</summary>
    public TensorShape OutputShape => Shape(Filters, OutputHeight, OutputWidth);

    /// <summary>Gets the kernel shape in Keras's layout: <c>[kh, kw, filters, in_channels]</c>.</summary>
    public TensorShape KernelShape => new(KernelSize.Height, KernelSize.Width, Filters / Groups, InputChannels);

    /// <summary>Gets PyTorch's groups (1 without): each filter sees the input channels of its group only.</summary>
    public int Groups { get; private init; } = 1;

    /// <summary>Gets the number of input elements.</summary>
    public long InputElements => (long)Batch * InputHeight * InputWidth * InputChannels;

    /// <summary>Gets the number of output elements.</summary>
    public long OutputElements => (long)Batch * OutputHeight * OutputWidth * Filters;

    /// <summary>
    /// Gets the multiply-add work of one pass counted as floating-point operations:
    /// <c>2 * N * H * W * C * F * kh * kw</c>, H and W being the input size (the same for the forward pass
    /// and both gradients).
    /// </summary>
    public double Flops => 2.0 * Batch * InputHeight * InputWidth * InputChannels * Filters * KernelSize.Height * KernelSize.Width / Groups;

    /// <summary>Applies options to an input shape, checking everything TensorFlow checks.</summary>
    /// <param name="options">The layer's options (validated).</param>
    /// <param name="inputShape">The input shape, rank 4, in the options' data format.</param>
    /// <param name="argumentName">The argument to name in an error (the caller's parameter).</param>
    /// <returns>The geometry.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shape is not rank 4, TensorFlow (or PyTorch, ONNX) refuses the sizes, or an index would overflow 32 bits.</exception>
    public static Conv2DTransposeGeometry Create(Conv2DTransposeOptions options, TensorShape inputShape, string argumentName = "inputShape")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputShape);
        options.Validate();
        string layout = options.DataFormat == DataFormat.ChannelsLast ? "[N, H, W, C]" : "[N, C, H, W]";
        if (inputShape.Rank != 4)
        {
            throw new ArgumentException(
                $"{argumentName} must have rank 4 {layout} ({options.DataFormat.ToKerasName()}); got shape {inputShape}.", argumentName);
        }

        bool last = options.DataFormat == DataFormat.ChannelsLast;
        int n = inputShape[0];
        int h = last ? inputShape[1] : inputShape[2];
        int w = last ? inputShape[2] : inputShape[3];
        int c = last ? inputShape[3] : inputShape[1];
        if (c % options.Groups != 0)
        {
            throw new ArgumentException(
                $"{argumentName} shape {inputShape} has {c} channels, which groups={options.Groups} does not divide.", argumentName);
        }

        var k = options.KernelSize;
        var s = options.Strides;
        var d = options.DilationRate;
        var pads = options.Pads ?? (options.ExplicitPadding is Size2D p0 ? Pads2D.Symmetric(p0) : (Pads2D?)null);
        var (outH, cropTop, problemH) = Axis(options, h, k.Height, s.Height, d.Height, pads is { } ph ? (ph.Top, ph.Bottom) : null, options.OutputPadding?.Height, options.OutputSize?.Height);
        var (outW, cropLeft, problemW) = Axis(options, w, k.Width, s.Width, d.Width, pads is { } pw ? (pw.Left, pw.Right) : null, options.OutputPadding?.Width, options.OutputSize?.Width);
        string? problem = problemH is not null ? "height: " + problemH : problemW is not null ? "width: " + problemW : null;
        if (problem is not null)
        {
            string padding = options.Pads is Pads2D edges ? $"pads ({edges})" : options.ExplicitPadding is Size2D p ? $"padding={p} (PyTorch)" : $"padding={options.Padding.ToKerasName()}";
            throw new ArgumentException(
                $"{(options.Pads is not null ? "ONNX and TensorFlow refuse" : options.ExplicitPadding is null ? "TensorFlow refuses" : "PyTorch refuses")} this transposed convolution ({problem}): {argumentName} shape {inputShape}, " +
                $"kernel_size={k}, strides={s}, dilation_rate={d}, {padding}, " +
                $"output_padding={options.OutputPadding?.ToString() ?? "None"}{(options.OutputSize is Size2D o ? $", output size {o}" : string.Empty)}.",
                argumentName);
        }

        var geometry = new Conv2DTransposeGeometry
        {
            Batch = n,
            InputHeight = h,
            InputWidth = w,
            InputChannels = c,
            Filters = options.Filters,
            Groups = options.Groups,
            OutputHeight = (int)Math.Min(outH, int.MaxValue),
            OutputWidth = (int)Math.Min(outW, int.MaxValue),
            KernelSize = k,
            Strides = s,
            DilationRate = d,
            CropBegin = new Size2D((int)cropTop, (int)cropLeft),
            DataFormat = options.DataFormat,
        };

        // The GPU programs index with 32-bit ints: refuse anything whose index space would not fit.
        long largest = Math.Max(Math.Max(geometry.InputElements, geometry.OutputElements), geometry.KernelShape.ElementCount);
        if (outH > int.MaxValue || outW > int.MaxValue || largest > MaxElements)
        {
            throw new ArgumentException(
                $"{argumentName} shape {inputShape} gives an output of [{n}, {outH}, {outW}, {options.Filters}] (channels last): " +
                $"{largest} elements in one tensor exceed the {MaxElements} that 32-bit kernel indexing allows.",
                argumentName);
        }

        return geometry;
    }

    /// <summary>
    /// One axis: its output length, its crop at the start, and why the sizes are refused (null when accepted), by
    /// TensorFlow's rules (Keras padding) or PyTorch's (explicit padding), with or without an explicit output length.
    /// </summary>
    private static (long Output, long Crop, string? Problem) Axis(
        Conv2DTransposeOptions options, int n, int k, int s, int d, (int Begin, int End)? pads, int? outputPadding, int? outputLength)
    {
        if (pads is (int begin, int end))
        {
            // PyTorch's symmetric padding and padding per edge (ONNX, tf.nn) follow the same rule.
            long length = outputLength ?? Conv2DTransposeRules.PaddedOutputLength(n, k, s, d, begin, end, outputPadding ?? 0);
            string? problem = outputLength is not null ? Conv2DTransposeRules.CheckPaddedOutputLength(n, length, k, s, d, begin, end)
                : length < 1 ? $"the output length would be {length}" : null;
            if (problem is null && begin < 0 && -(long)begin >= length)
            {
                problem = $"the padding adds {-begin} rows or columns before the full result, as many as the output's {length}: none would hold a product";
            }
            return (length, begin, problem);
        }

        long output = outputLength ?? Conv2DTransposeRules.OutputLength(n, k, s, d, options.Padding, outputPadding);
        return (output, Conv2DTransposeRules.CropBegin(n, output, k, s, d, options.Padding), Conv2DTransposeRules.CheckAxis(n, output, k, s, d, options.Padding));
    }

    /// <summary>The largest tensor the GPU programs index: below 2^31 with room for the register-blocking overhang.</summary>
    public const long MaxElements = int.MaxValue - 4096;

    private TensorShape Shape(int channels, int height, int width) =>
        DataFormat == DataFormat.ChannelsLast
            ? new TensorShape(Batch, height, width, channels)
            : new TensorShape(Batch, channels, height, width);
}
