using System;
using System.Collections.Generic;
using System.IO;
using Google.Protobuf;
using ILGpuDeconv.IO.Onnx;

namespace ILGpuDeconv;

/// <summary>
/// Writes a layer as an ONNX model (opset 20, IR version 9): <c>ConvTranspose</c> with explicit <c>pads</c> and the
/// layer's kernel and bias as initializers, then the activation as ONNX operators, with <c>Transpose</c> nodes around
/// them for channels_last (ONNX's convolutions are channels first). The batch is symbolic (<c>N</c>); the spatial sizes
/// are those of the input shape given, since Keras's <c>same</c> padding depends on them.
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>The operator set written: 20 has every operator the activations need (Gelu with <c>approximate</c> among them).</summary>
    public const int Opset = 20;

    /// <summary>Writes the layer for <paramref name="inputShape"/> to a stream.</summary>
    public static void Write(Conv2DTranspose layer, TensorShape inputShape, Stream stream)
    {
        var geometry = layer.GetGeometry(inputShape);
        var (kernel, bias) = layer.GetWeights();
        var options = layer.Options;
        int kh = geometry.KernelSize.Height, kw = geometry.KernelSize.Width, fg = geometry.Filters / geometry.Groups, c = geometry.InputChannels;

        // The layer's crop and length along each axis as ONNX pads: the crop at the start; at the end, what the full
        // result loses (an extension past it is ONNX's output_padding). ONNX has no negative pads.
        var (top, bottom, opH) = Axis(geometry.InputHeight, kh, geometry.Strides.Height, geometry.DilationRate.Height, geometry.CropBegin.Height, geometry.OutputHeight, "height");
        var (left, right, opW) = Axis(geometry.InputWidth, kw, geometry.Strides.Width, geometry.DilationRate.Width, geometry.CropBegin.Width, geometry.OutputWidth, "width");

        var graph = new GraphProto { Name = string.IsNullOrEmpty(layer.Name) ? "conv2d_transpose" : layer.Name };
        bool last = options.DataFormat == DataFormat.ChannelsLast;
        string x = "input";
        graph.Input.Add(ValueInfo(x, geometry.InputShape, symbolicBatch: true));
        if (last)
        {
            graph.Node.Add(Node("Transpose", "to_channels_first", [x], ["input_nchw"], Ints("perm", 0, 3, 1, 2)));
            x = "input_nchw";
        }

        // W is PyTorch's (and ONNX's) [in_channels, filters / groups, kh, kw]; the layer holds Keras's [kh, kw, filters / groups, in].
        var w = new float[kernel.Length];
        for (int a = 0; a < kh; a++)
        {
            for (int b = 0; b < kw; b++)
            {
                for (int f = 0; f < fg; f++)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        w[(((ch * fg) + f) * kh + a) * kw + b] = kernel[(((a * kw) + b) * fg + f) * c + ch];
                    }
                }
            }
        }

        graph.Initializer.Add(Tensor("W", w, c, fg, kh, kw));
        var inputs = new List<string> { x, "W" };
        if (bias is not null)
        {
            graph.Initializer.Add(Tensor("B", bias, bias.Length));
            inputs.Add("B");
        }

        var conv = Node("ConvTranspose", "conv_transpose", inputs, ["pre_activation"],
            Ints("kernel_shape", kh, kw), Ints("strides", geometry.Strides.Height, geometry.Strides.Width),
            Ints("dilations", geometry.DilationRate.Height, geometry.DilationRate.Width), Ints("pads", top, left, bottom, right),
            Ints("output_padding", opH, opW), Int("group", geometry.Groups));
        graph.Node.Add(conv);

        // softmax runs along Keras's last axis: the filters for channels_last (after the transpose back), the width otherwise.
        string y = "pre_activation";
        bool alongLastAxis = !options.Activation.IsElementwise;
        if (!alongLastAxis)
        {
            y = options.Activation.Accept(new ActivationNodes(graph, y));
        }

        if (last)
        {
            graph.Node.Add(Node("Transpose", "to_channels_last", [y], ["output_nhwc"], Ints("perm", 0, 2, 3, 1)));
            y = "output_nhwc";
        }

        if (alongLastAxis)
        {
            y = options.Activation.Accept(new ActivationNodes(graph, y));
        }

        graph.Node.Add(Node("Identity", "output", [y], ["output"]));
        graph.Output.Add(ValueInfo("output", geometry.OutputShape, symbolicBatch: true));
        var model = new ModelProto
        {
            IrVersion = 9,
            ProducerName = "ILGpuDeconv",
            ProducerVersion = typeof(OnnxModelWriter).Assembly.GetName().Version?.ToString() ?? string.Empty,
            Graph = graph,
            DocString = $"Conv2DTranspose '{layer.Name}' for input {inputShape} ({options.DataFormat.ToKerasName()}), activation {options.Activation.Name}",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        model.WriteTo(stream);
    }

    private static (int Begin, int End, int OutputPadding) Axis(int n, int k, int s, int d, int crop, int output, string axis)
    {
        long full = ((long)(n - 1) * s) + Conv2DTransposeRules.EffectiveKernelSize(k, d);
        long end = full - crop - output;
        if (crop < 0)
        {
            throw new NotSupportedException($"The layer adds {-crop} rows or columns before the full result along the {axis}; ONNX's pads cannot be negative, so no ConvTranspose node computes it.");
        }

        if (end >= 0)
        {
            return (crop, (int)end, 0);
        }

        if (-end < Math.Max(s, d))
        {
            return (crop, 0, (int)-end); // rows past the full result, as ONNX's output_padding adds them
        }

        throw new NotSupportedException($"The layer extends {-end} rows or columns past the full result along the {axis}, more than ONNX's output_padding may (below the stride or the dilation, {Math.Max(s, d)}).");
    }

    private static ValueInfoProto ValueInfo(string name, TensorShape shape, bool symbolicBatch)
    {
        var tensorShape = new TensorShapeProto();
        for (int i = 0; i < shape.Rank; i++)
        {
            tensorShape.Dim.Add(i == 0 && symbolicBatch ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = shape[i] });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } } };
    }

    private static TensorProto Tensor(string name, float[] values, params int[] dims)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        }

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        foreach (int d in dims)
        {
            tensor.Dims.Add(d);
        }

        return tensor;
    }

    internal static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    internal static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    internal static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>The ONNX operators of an activation, appended to the graph after <c>input</c>; returns the output's name.</summary>
    private sealed class ActivationNodes(GraphProto graph, string input) : IActivationVisitor<string>
    {
        public string Elementwise<TFunction>(TFunction function)
            where TFunction : unmanaged, IActivationFunction
        {
            object f = function;
            switch (f)
            {
                case LinearFunction:
                    return input;
                case ReluFunction:
                    return One("Relu");
                case SigmoidFunction:
                    return One("Sigmoid");
                case TanhFunction:
                    return One("Tanh");
                case SoftplusFunction:
                    return One("Softplus");
                case SoftsignFunction:
                    return One("Softsign");
                case ExponentialFunction:
                    return One("Exp");
                case MishFunction:
                    return One("Mish");
                case HardSiluFunction:
                    return One("HardSwish");
                case SeluFunction:
                    return One("Selu", Float("alpha", SeluFunction.ScaleAlpha / SeluFunction.Scale), Float("gamma", SeluFunction.Scale));
                case EluFunction elu:
                    return One("Elu", Float("alpha", elu.Alpha));
                case LeakyReluFunction leaky:
                    return One("LeakyRelu", Float("alpha", leaky.NegativeSlope));
                case HardSigmoidFunction hard:
                    return One("HardSigmoid", Float("alpha", hard.Slope), Float("beta", hard.Offset));
                case GeluFunction:
                    return One("Gelu", String("approximate", "none"));
                case GeluTanhFunction:
                    return One("Gelu", String("approximate", "tanh"));
                case Relu6Function:
                    graph.Initializer.Add(Tensor("relu6_min", [0f]));
                    graph.Initializer.Add(Tensor("relu6_max", [6f]));
                    graph.Node.Add(Node("Clip", "relu6", [input, "relu6_min", "relu6_max"], ["activation"]));
                    return "activation";
                case SwishFunction:
                    graph.Node.Add(Node("Sigmoid", "swish_sigmoid", [input], ["swish_gate"]));
                    graph.Node.Add(Node("Mul", "swish", [input, "swish_gate"], ["activation"]));
                    return "activation";
                default:
                    throw new NotSupportedException($"The activation {typeof(TFunction).Name} has no ONNX operator this writer knows; only Keras's built-in activations are written.");
            }
        }

        public string AlongLastAxis(bool log) => One(log ? "LogSoftmax" : "Softmax", Int("axis", -1));

        private string One(string op, params AttributeProto[] attributes)
        {
            graph.Node.Add(Node(op, "activation", [input], ["activation"], attributes));
            return "activation";
        }
    }
}
