#if CPU_PEERS
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>
/// Writes a one-node ONNX model (ModelProto, protobuf wire format) in memory: no ONNX package needed.
/// Field numbers are those of onnx.proto.
/// </summary>
internal static class OnnxModel
{
    /// <summary>A model with one node of <paramref name="opType"/> taking X and the initializers W (and B), giving Y.</summary>
    public static byte[] SingleNode(
        string opType, long[] inputShape, long[] outputShape, float[] weights, long[] weightShape, float[]? bias, IReadOnlyList<(string Name, long[] Values)> attributes)
    {
        var node = new Proto();
        node.String(1, "X").String(1, "W");
        if (bias is not null)
        {
            node.String(1, "B");
        }

        node.String(2, "Y").String(4, opType);
        foreach (var (name, values) in attributes)
        {
            var attribute = new Proto().String(1, name).Varint(20, 7); // type INTS
            foreach (long v in values)
            {
                attribute.Varint(8, v);
            }

            node.Message(5, attribute);
        }

        var graph = new Proto().Message(1, node).String(2, "deconv").Message(5, Initializer("W", weights, weightShape));
        if (bias is not null)
        {
            graph.Message(5, Initializer("B", bias, [bias.Length]));
        }

        graph.Message(11, ValueInfo("X", inputShape)).Message(12, ValueInfo("Y", outputShape));
        var opset = new Proto().String(1, string.Empty).Varint(2, 17);
        return new Proto().Varint(1, 8).String(2, "ILGpuDeconv.Bench").Message(7, graph).Message(8, opset).ToArray();
    }

    private static Proto Initializer(string name, float[] values, long[] shape)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // raw_data is little-endian, as is this machine
        var tensor = new Proto();
        foreach (long d in shape)
        {
            tensor.Varint(1, d);
        }

        return tensor.Varint(2, 1).String(8, name).Bytes(9, bytes); // data_type FLOAT
    }

    private static Proto ValueInfo(string name, long[] shape)
    {
        var dims = new Proto();
        foreach (long d in shape)
        {
            dims.Message(1, new Proto().Varint(1, d));
        }

        var tensorType = new Proto().Varint(1, 1).Message(2, dims);
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType));
    }

    /// <summary>A protobuf message being written: varints and length-delimited fields.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream stream = new();

        public Proto Varint(int field, long value)
        {
            Tag(field, 0);
            Raw((ulong)value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            stream.Write(value);
            return this;
        }

        public byte[] ToArray() => stream.ToArray();

        private void Tag(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            stream.WriteByte((byte)value);
        }
    }
}
#endif
