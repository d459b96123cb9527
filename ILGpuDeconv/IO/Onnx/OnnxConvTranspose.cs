using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ILGpuDeconv.IO.Onnx;

namespace ILGpuDeconv;

/// <summary>
/// One ONNX <c>ConvTranspose</c> node, as <see cref="OnnxFormat.ConvTransposeNodes(string)"/> read it: its name, the names of
/// its inputs, its attributes with ONNX's defaults filled in, and the weights' shape. <see cref="ToOptions"/> turns it
/// into the layer's options for an input shape (ONNX's padding can depend on it); <see cref="Conv2DTranspose.FromOnnx(DeconvDevice, string, TensorShape, string?)"/>
/// builds the layer with the node's weights.
/// </summary>
public sealed record OnnxConvTranspose
{
    private OnnxConvTranspose()
    {
    }

    /// <summary>Gets the node's name (or <c>#i</c>, its position, when the node has none).</summary>
    public string Name { get; private init; } = string.Empty;

    /// <summary>Gets the name of the data input X.</summary>
    public string Input { get; private init; } = string.Empty;

    /// <summary>Gets the name of the weights W, <c>[C, F / group, k...]</c> (PyTorch's layout).</summary>
    public string Weight { get; private init; } = string.Empty;

    /// <summary>Gets the name of the bias B, or null without one.</summary>
    public string? Bias { get; private init; }

    /// <summary>Gets the name of the output Y.</summary>
    public string Output { get; private init; } = string.Empty;

    /// <summary>Gets the spatial rank: 1, 2 or 3 (from <c>kernel_shape</c>, else the weights' rank).</summary>
    public int SpatialRank { get; private init; }

    /// <summary>Gets the weights' shape as the model declares it (an initializer's dims or the input's shape; -1 for a symbolic dimension), or null when unknown.</summary>
    public IReadOnlyList<long>? WeightShape { get; private init; }

    /// <summary>Gets <c>kernel_shape</c>, or null (taken from the weights).</summary>
    public IReadOnlyList<long>? KernelShape { get; private init; }

    /// <summary>Gets <c>strides</c> (default 1 per axis).</summary>
    public IReadOnlyList<long> Strides { get; private init; } = [];

    /// <summary>Gets <c>dilations</c> (default 1 per axis).</summary>
    public IReadOnlyList<long> Dilations { get; private init; } = [];

    /// <summary>Gets <c>pads</c> in ONNX's order (all begins, then all ends; default 0).</summary>
    public IReadOnlyList<long> Pads { get; private init; } = [];

    /// <summary>Gets <c>output_padding</c> (default 0 per axis).</summary>
    public IReadOnlyList<long> OutputPadding { get; private init; } = [];

    /// <summary>Gets <c>output_shape</c> (the spatial sizes), or null.</summary>
    public IReadOnlyList<long>? OutputShape { get; private init; }

    /// <summary>Gets <c>auto_pad</c> (default <c>NOTSET</c>).</summary>
    public string AutoPad { get; private init; } = "NOTSET";

    /// <summary>Gets <c>group</c> (default 1).</summary>
    public long Group { get; private init; } = 1;

    /// <summary>Gets the input shape the model declares for X (-1 for a symbolic dimension), or null.</summary>
    public IReadOnlyList<long>? DeclaredInputShape { get; private init; }

    /// <summary>Gets the file the node was read from, for messages.</summary>
    public string Source { get; private init; } = string.Empty;

    /// <summary>
    /// The layer's input shape for an ONNX input shape: the same for 2-D (<c>[N, C, H, W]</c>, channels first); a 1-D
    /// node's <c>[N, C, L]</c> becomes <c>[N, C, 1, L]</c>, a layer of height 1.
    /// </summary>
    /// <param name="onnxInputShape">X's shape.</param>
    /// <returns>The layer's input shape.</returns>
    /// <exception cref="NotSupportedException">The node is 3-D.</exception>
    /// <exception cref="ArgumentException">The shape's rank does not match the node's.</exception>
    public TensorShape LayerInputShape(TensorShape onnxInputShape)
    {
        ArgumentNullException.ThrowIfNull(onnxInputShape);
        RequireTwoDimensions();
        if (onnxInputShape.Rank != SpatialRank + 2)
        {
            throw new ArgumentException($"ONNX node '{Name}' is {SpatialRank}-D: its input X has rank {SpatialRank + 2}, not {onnxInputShape} ({Source}).", nameof(onnxInputShape));
        }

        return SpatialRank == 1 ? new TensorShape(onnxInputShape[0], onnxInputShape[1], 1, onnxInputShape[2]) : onnxInputShape;
    }

    /// <summary>
    /// The layer's options for this node and an input shape: channels first, the filters and groups from the weights
    /// and <c>group</c>, the kernel, strides and dilations, and ONNX's padding rules turned into
    /// <see cref="Conv2DTransposeOptions.Pads"/> and <see cref="Conv2DTransposeOptions.OutputPadding"/>
    /// (<see cref="Conv2DTransposeRules.OnnxPads"/>), so that the layer's output has the node's shape. A 1-D node gives a
    /// layer of height 1 (<see cref="LayerInputShape"/>).
    /// </summary>
    /// <param name="onnxInputShape">X's shape (<c>[N, C, H, W]</c>, or <c>[N, C, L]</c> for 1-D).</param>
    /// <returns>The options.</returns>
    /// <exception cref="NotSupportedException">The node is 3-D, or its weights' shape is unknown.</exception>
    /// <exception cref="InvalidDataException">A dimension of the weights' declared shape lies outside 1 to 2^31 - 1, or so do the filters it gives with <c>group</c>; the message names the node, W and the dimension.</exception>
    /// <exception cref="ArgumentException">The shape does not fit the node.</exception>
    public Conv2DTransposeOptions ToOptions(TensorShape onnxInputShape)
    {
        var input = LayerInputShape(onnxInputShape);
        if (WeightShape is not { } w || w.Count != SpatialRank + 2 || w.Any(d => d == -1))
        {
            throw new NotSupportedException($"ONNX node '{Name}': the shape of its weights W ('{Weight}') is not known from the model, so its filters are not ({Source}).");
        }

        // Every dimension in 64 bits before any becomes an int: W [3, 2^32 + 2, 3, 3] must not turn into 2 filters.
        for (int i = 0; i < w.Count; i++)
        {
            if (w[i] < 1 || w[i] > int.MaxValue)
            {
                throw new InvalidDataException(
                    $"{Source}: ConvTranspose node '{Name}': W ('{Weight}') has shape [{string.Join(", ", w)}]; its dimension {i} = {w[i]} lies outside 1 to {int.MaxValue}.");
            }
        }

        if (w[1] * Group > int.MaxValue)
        {
            throw new InvalidDataException(
                $"{Source}: ConvTranspose node '{Name}': W ('{Weight}') [{string.Join(", ", w)}] with group {Group} gives {w[1] * Group} filters, more than {int.MaxValue}.");
        }

        if (w[0] != input[1])
        {
            throw new ArgumentException($"ONNX node '{Name}': W ('{Weight}') has shape [{string.Join(", ", w)}], for {w[0]} input channels; the input {onnxInputShape} has {input[1]} ({Source}).", nameof(onnxInputShape));
        }

        int Axis(IReadOnlyList<long> values, int axis) => SpatialRank == 1 ? (axis == 0 ? 1 : (int)values[0]) : (int)values[axis];
        var kernel = KernelShape ?? w.Skip(2).ToList();
        int padsCount = Pads.Count / 2;
        (int Begin, int End) AxisPads(int axis)
        {
            if (SpatialRank == 1 && axis == 0)
            {
                return (0, 0); // the added height of 1
            }

            int a = SpatialRank == 1 ? 0 : axis;
            int outputPadding = (int)OutputPadding[a];
            int? outputShape = OutputShape is { } o ? (int)o[a] : null;
            return Conv2DTransposeRules.OnnxPads(
                input[2 + axis], (int)kernel[a], (int)Strides[a], (int)Dilations[a], outputPadding, AutoPad, outputShape, (int)Pads[a], (int)Pads[a + padsCount]);
        }

        // With output_shape the output padding is part of the total padding, and the layer adds it back: the output is output_shape.
        var (top, bottom) = AxisPads(0);
        var (left, right) = AxisPads(1);
        int group = (int)Group;
        var options = new Conv2DTransposeOptions((int)(w[1] * group), (Axis(kernel, 0), Axis(kernel, 1)))
        {
            Strides = (Axis(Strides, 0), Axis(Strides, 1)),
            DilationRate = (Axis(Dilations, 0), Axis(Dilations, 1)),
            Pads = new Pads2D(top, bottom, left, right),
            OutputPadding = (SpatialRank == 1 ? 0 : (int)OutputPadding[0], (int)OutputPadding[SpatialRank == 1 ? 0 : 1]),
            DataFormat = DataFormat.ChannelsFirst,
            Groups = group,
            UseBias = Bias is not null,
            Name = Name,
        };

        // The layer's own checks, here, so that a refusal names the node and the ONNX attribute behind it.
        try
        {
            options.Validate();
            _ = Conv2DTransposeGeometry.Create(options, input);
        }
        catch (ArgumentException e)
        {
            string attribute = e.ParamName switch
            {
                nameof(Conv2DTransposeOptions.KernelSize) => "kernel_shape",
                nameof(Conv2DTransposeOptions.Strides) => "strides",
                nameof(Conv2DTransposeOptions.DilationRate) => "dilations",
                nameof(Conv2DTransposeOptions.OutputPadding) => "output_padding",
                nameof(Conv2DTransposeOptions.Groups) => "group",
                nameof(Conv2DTransposeOptions.Pads) => OutputShape is null ? "pads" : "output_shape",
                _ => OutputShape is null ? "pads, strides, kernel_shape" : "output_shape",
            };
            throw new ArgumentException($"ONNX node '{Name}' ({attribute}): {e.Message} ({Source})", e.ParamName, e);
        }

        return options;
    }

    /// <summary>Formats the node with its attributes.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var text = new StringBuilder($"{Name}: ConvTranspose {SpatialRank}-D, W '{Weight}' [{(WeightShape is null ? "?" : string.Join(", ", WeightShape))}]{(Bias is null ? string.Empty : $", B '{Bias}'")}");
        text.Append($", strides [{string.Join(", ", Strides)}], dilations [{string.Join(", ", Dilations)}], pads [{string.Join(", ", Pads)}]");
        text.Append($", output_padding [{string.Join(", ", OutputPadding)}], auto_pad {AutoPad}, group {Group}");
        if (OutputShape is not null)
        {
            text.Append($", output_shape [{string.Join(", ", OutputShape)}]");
        }

        return text.ToString();
    }

    /// <summary>Reads a node's attributes, checking their types and values.</summary>
    internal static OnnxConvTranspose FromNode(NodeProto node, int index, string path, IReadOnlyDictionary<string, long[]> shapes)
    {
        string name = string.IsNullOrEmpty(node.Name) ? $"#{index}" : node.Name;
        string where = $"{path}: ConvTranspose node '{name}'";
        if (node.Input.Count < 2 || node.Input.Count > 3 || string.IsNullOrEmpty(node.Input[0]) || string.IsNullOrEmpty(node.Input[1]) || node.Output.Count < 1)
        {
            throw new InvalidDataException($"{where} has inputs [{string.Join(", ", node.Input)}] and outputs [{string.Join(", ", node.Output)}]; ConvTranspose takes X, W and an optional B and gives Y.");
        }

        var attributes = new Dictionary<string, AttributeProto>(StringComparer.Ordinal);
        foreach (var a in node.Attribute)
        {
            if (!attributes.TryAdd(a.Name, a))
            {
                throw new InvalidDataException($"{where} has attribute '{a.Name}' twice.");
            }
        }

        long[]? Ints(string attribute, bool positive)
        {
            if (!attributes.TryGetValue(attribute, out var a))
            {
                return null;
            }

            if (a.Type != AttributeProto.Types.AttributeType.Ints && a.Type != AttributeProto.Types.AttributeType.Undefined)
            {
                throw new InvalidDataException($"{where}: attribute '{attribute}' is {a.Type}, not a list of ints.");
            }

            var values = a.Ints.ToArray();
            if (values.Any(v => v < (positive ? 1 : 0) || v > int.MaxValue / 2))
            {
                throw new InvalidDataException($"{where}: attribute '{attribute}' is [{string.Join(", ", values)}]; ONNX wants {(positive ? "positive" : "non-negative")} values (and this library ones below 2^30).");
            }

            return values;
        }

        shapes.TryGetValue(node.Input[1], out var weightShape);
        var kernel = Ints("kernel_shape", positive: true);
        int rank = kernel?.Length ?? (weightShape is { Length: > 2 } ws ? ws.Length - 2 : 2);
        if (rank < 1)
        {
            throw new InvalidDataException($"{where}: attribute 'kernel_shape' is empty.");
        }

        long[] PerAxis(string attribute, long fallback, bool positive, int count)
        {
            var values = Ints(attribute, positive) ?? Enumerable.Repeat(fallback, count).ToArray();
            if (values.Length != count)
            {
                throw new InvalidDataException($"{where}: attribute '{attribute}' has {values.Length} values; a {rank}-D node needs {count}.");
            }

            return values;
        }

        string autoPad = "NOTSET";
        if (attributes.TryGetValue("auto_pad", out var pad))
        {
            autoPad = Encoding.UTF8.GetString(pad.S.Span);
            if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER" or ""))
            {
                throw new InvalidDataException($"{where}: attribute 'auto_pad' is \"{autoPad}\"; ONNX allows NOTSET, VALID, SAME_UPPER and SAME_LOWER.");
            }

            autoPad = autoPad.Length == 0 ? "NOTSET" : autoPad;
        }

        long group = 1;
        if (attributes.TryGetValue("group", out var g))
        {
            group = g.I;
            if (group < 1 || group > int.MaxValue)
            {
                throw new InvalidDataException($"{where}: attribute 'group' is {group}; ONNX wants a positive group.");
            }
        }

        var outputShape = Ints("output_shape", positive: true);
        if (outputShape is { } os && os.Length != rank && os.Length != rank + 2)
        {
            throw new InvalidDataException($"{where}: attribute 'output_shape' has {os.Length} values; a {rank}-D node needs {rank} (or {rank + 2} with N and C).");
        }

        shapes.TryGetValue(node.Input[0], out var inputShape);
        return new OnnxConvTranspose
        {
            Name = name,
            Input = node.Input[0],
            Weight = node.Input[1],
            Bias = node.Input.Count == 3 && !string.IsNullOrEmpty(node.Input[2]) ? node.Input[2] : null,
            Output = node.Output[0],
            SpatialRank = rank,
            WeightShape = weightShape,
            KernelShape = kernel,
            Strides = PerAxis("strides", 1, positive: true, rank),
            Dilations = PerAxis("dilations", 1, positive: true, rank),
            Pads = PerAxis("pads", 0, positive: false, 2 * rank),
            OutputPadding = PerAxis("output_padding", 0, positive: false, rank),
            OutputShape = outputShape is { } shape && shape.Length == rank + 2 ? shape[2..] : outputShape,
            AutoPad = autoPad,
            Group = group,
            DeclaredInputShape = inputShape,
            Source = path,
        };
    }

    private void RequireTwoDimensions()
    {
        if (SpatialRank > 2)
        {
            throw new NotSupportedException(
                $"ONNX node '{Name}' is {SpatialRank}-D (attribute 'kernel_shape' or W has {SpatialRank} spatial axes); Conv2DTranspose computes 1-D and 2-D transposed convolutions only ({Source}).");
        }
    }
}
