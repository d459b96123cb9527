#if CPU_PEERS
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ILGpuDeconv.IO.Onnx;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>
/// A one-node ONNX model for ONNX Runtime, built with Google.Protobuf and the library's ONNX message types
/// (<c>ILGpuDeconv/IO/Onnx/onnx.proto</c>, compiled in the library, visible to the harness).
/// </summary>
internal static class OnnxModel
{
    /// <summary>A model with one node of <paramref name="opType"/> taking X and the initializers W (and B), giving Y.</summary>
    public static byte[] SingleNode(
        string opType, long[] inputShape, long[] outputShape, float[] weights, long[] weightShape, float[]? bias, IReadOnlyList<(string Name, long[] Values)> attributes)
    {
        var node = new NodeProto { OpType = opType, Name = opType };
        node.Input.Add("X");
        node.Input.Add("W");
        if (bias is not null)
        {
            node.Input.Add("B");
        }

        node.Output.Add("Y");
        foreach (var (name, values) in attributes)
        {
            var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
            attribute.Ints.AddRange(values);
            node.Attribute.Add(attribute);
        }

        var graph = new GraphProto { Name = "deconv" };
        graph.Node.Add(node);
        graph.Initializer.Add(Initializer("W", weights, weightShape));
        if (bias is not null)
        {
            graph.Initializer.Add(Initializer("B", bias, [bias.Length]));
        }

        graph.Input.Add(ValueInfo("X", inputShape));
        graph.Output.Add(ValueInfo("Y", outputShape));
        var model = new ModelProto { IrVersion = 8, ProducerName = "ILGpuDeconv.Bench", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model.ToByteArray();
    }

    private static TensorProto Initializer(string name, float[] values, long[] shape)
    {
        // raw_data is little-endian, as is this machine.
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(new System.ReadOnlySpan<float>(values))) };
        tensor.Dims.AddRange(shape);
        return tensor;
    }

    private static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var dims = new TensorShapeProto();
        foreach (long d in shape)
        {
            dims.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims } } };
    }
}
#endif
