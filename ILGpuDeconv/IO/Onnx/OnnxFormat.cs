using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using ILGpuDeconv.IO.Onnx;

namespace ILGpuDeconv;

/// <summary>
/// ONNX models (<c>.onnx</c>), as ONNX Runtime, PyTorch's <c>torch.onnx.export</c>, tf2onnx and ML.NET exchange them, read
/// and written through Google.Protobuf with ONNX's schema (the subset in <c>IO/Onnx/onnx.proto</c>): the
/// <c>ConvTranspose</c> nodes of a model (<see cref="ConvTransposeNodes(string)"/>), their weights (initializers in float32,
/// float16, bfloat16 or float64, inline or as external data inside the model's folder), and single tensors
/// (<see cref="ReadTensor"/>, the <c>.pb</c> files of ONNX's test data). A malformed file is an
/// <see cref="InvalidDataException"/> naming it (and the node or tensor); memory stays within the file's size and the
/// elements asked for. <see cref="Conv2DTranspose.SaveOnnx(string, TensorShape)"/> writes a layer as a model.
/// </summary>
public static class OnnxFormat
{
    /// <summary>The largest model file read: protobuf's own limit for one message (2 GiB).</summary>
    public const long MaxModelBytes = int.MaxValue;

    /// <summary>How deep messages may nest (a graph inside an attribute inside a graph ...): protobuf's default.</summary>
    public const int MaxNesting = 100;

    /// <summary>
    /// Lists the <c>ConvTranspose</c> nodes of a model with their attributes, the names of their inputs and the weights'
    /// shapes (from the initializers, or from the graph's declared inputs).
    /// </summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <returns>The nodes, in the graph's order.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed ONNX model, or a node's attribute is malformed.</exception>
    public static IReadOnlyList<OnnxConvTranspose> ConvTransposeNodes(string path) =>
        ReaderGuard.Run(path, () => ConvTransposeNodes(ReadModel(path), path));

    /// <summary>The <c>ConvTranspose</c> nodes of a parsed model (<paramref name="path"/> names it in messages).</summary>
    internal static IReadOnlyList<OnnxConvTranspose> ConvTransposeNodes(ModelProto model, string path)
    {
        return ReaderGuard.Run<IReadOnlyList<OnnxConvTranspose>>(path, () =>
        {
            var graph = model.Graph ?? throw new InvalidDataException($"{path}: the model has no graph.");
            var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var input in graph.Input)
            {
                if (input.Type?.TensorType?.Shape is { } shape)
                {
                    shapes[input.Name] = [.. shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1)];
                }
            }

            foreach (var initializer in graph.Initializer)
            {
                shapes[initializer.Name] = [.. initializer.Dims];
            }

            var nodes = graph.Node.Where(n => n.OpType == "ConvTranspose" && n.Domain is "" or "ai.onnx").ToList();
            if (nodes.Count > 0 && !model.OpsetImport.Any(o => o.Domain is "" or "ai.onnx"))
            {
                throw new InvalidDataException(
                    $"{path}: ConvTranspose node '{(string.IsNullOrEmpty(nodes[0].Name) ? "#0" : nodes[0].Name)}' is in ONNX's default domain, which the model's opset_import "
                    + $"({string.Join(", ", model.OpsetImport.Select(o => $"'{o.Domain}' {o.Version}"))}) does not import.");
            }

            return [.. nodes.Select((n, i) => OnnxConvTranspose.FromNode(n, i, path, shapes))];
        });
    }

    /// <summary>Reads one tensor from a file holding a serialized <c>TensorProto</c> (as ONNX's test data sets do).</summary>
    /// <param name="path">The <c>.pb</c> file.</param>
    /// <param name="maxElements">The most elements the tensor may have.</param>
    /// <returns>The values, as float, and the shape.</returns>
    /// <exception cref="InvalidDataException">The file is malformed, or its data do not match its declared size.</exception>
    public static NumPyArray ReadTensor(string path, long maxElements = NumPyFormat.DefaultMaxElements)
    {
        return ReaderGuard.Run<NumPyArray>(path, () =>
        {
            using var file = OpenChecked(path);
            var tensor = Parse(file, path, TensorProto.Parser, "a serialized ONNX tensor");
            return Decode(tensor, path, Path.GetDirectoryName(Path.GetFullPath(path))!, maxElements);
        });
    }

    /// <summary>Name, dtype and shape of every initializer of a model, reading no tensor data beyond the model itself.</summary>
    internal static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(string path) => List(ReadModel(path), path);

    /// <summary>Name, dtype and shape of every initializer of a parsed model.</summary>
    internal static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(ModelProto model, string path) =>
        [.. (model.Graph?.Initializer ?? []).Select(t => (t.Name, DtypeName(t.DataType), Dimensions(t, path)))];

    /// <summary>
    /// Reads initializers of a parsed model as float (those <paramref name="include"/> accepts), each within
    /// <paramref name="maxElements"/>; external data is looked for in <paramref name="folder"/>, and refused without one
    /// (a model read from a stream).
    /// </summary>
    internal static IReadOnlyDictionary<string, NumPyArray> Read(ModelProto model, string path, string? folder, Func<string, bool> include, long maxElements)
    {
        var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
        foreach (var t in (model.Graph?.Initializer ?? []).Where(t => include(t.Name)))
        {
            result[t.Name] = Decode(t, $"{path}: initializer '{t.Name}'", folder, maxElements);
        }

        return result;
    }

    /// <summary>Parses a model, with protobuf's limits on size and nesting; any parse failure names the file.</summary>
    internal static ModelProto ReadModel(string path)
    {
        using var file = OpenChecked(path);
        return ReadModel(file, path);
    }

    /// <summary>Parses a model from a stream (from its position to its end, at most <see cref="MaxModelBytes"/>), as <see cref="ReadModel(string)"/>.</summary>
    internal static ModelProto ReadModel(Stream stream, string path)
    {
        var model = Parse(stream, path, ModelProto.Parser, "an ONNX model");
        if (model.Graph is null)
        {
            throw new InvalidDataException($"{path}: not an ONNX model (no graph).");
        }

        // ONNX's IR (version 3 on) requires opset_import: without it no operator's version, hence meaning, is known
        // (onnx.checker refuses such a model too).
        if (model.OpsetImport.Count == 0)
        {
            throw new InvalidDataException($"{path}: the model has no opset_import, which ONNX requires: the versions of its operators are unknown.");
        }

        return model;
    }

    /// <summary>Opens a model or tensor file, refusing one larger than a protobuf message can be.</summary>
    private static FileStream OpenChecked(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{path} does not exist.", path);
        }

        if (info.Length > MaxModelBytes)
        {
            throw new InvalidDataException($"{path}: {info.Length} bytes, more than the {MaxModelBytes} of one protobuf message; weights that large belong in external data.");
        }

        return File.OpenRead(path);
    }

    private static T Parse<T>(Stream stream, string path, MessageParser<T> parser, string what)
        where T : IMessage<T>
    {
        long length = stream.CanSeek ? stream.Length - stream.Position : MaxModelBytes;
        if (length > MaxModelBytes)
        {
            throw new InvalidDataException($"{path}: {length} bytes, more than the {MaxModelBytes} of one protobuf message; weights that large belong in external data.");
        }

        try
        {
            using var input = CodedInputStream.CreateWithLimits(new NonClosingStream(stream), (int)length, MaxNesting); // the stream is the caller's
            var message = parser.ParseFrom(input);
            if (!input.IsAtEnd)
            {
                throw new InvalidDataException($"{path}: bytes left after the message.");
            }

            return message;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not {what}: {e.Message}", e);
        }
    }

    /// <summary>The shape of a tensor as ints, refusing negative dimensions and sizes past 32-bit indexing.</summary>
    internal static int[] Dimensions(TensorProto t, string source)
    {
        var dims = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw new InvalidDataException($"{source}: tensor '{t.Name}' has dimension {i} = {d}, outside 0 to {int.MaxValue}.");
            }

            dims[i] = (int)d;
            count = count > long.MaxValue / Math.Max(1, d) ? -1 : count * d;
            if (count < 0)
            {
                throw new InvalidDataException($"{source}: tensor '{t.Name}' has dimensions [{string.Join(", ", t.Dims)}], whose product overflows.");
            }
        }

        return dims;
    }

    private static string DtypeName(int type) => (TensorProto.Types.DataType)type switch
    {
        TensorProto.Types.DataType.Float => "float32",
        TensorProto.Types.DataType.Float16 => "float16",
        TensorProto.Types.DataType.Bfloat16 => "bfloat16",
        TensorProto.Types.DataType.Double => "float64",
        var other => Enum.IsDefined(other) ? other.ToString().ToLowerInvariant() : $"data_type {type}",
    };

    /// <summary>A tensor's values as float: raw, typed or external data, each checked against the declared size first.</summary>
    private static NumPyArray Decode(TensorProto t, string source, string? folder, long maxElements)
    {
        var dims = Dimensions(t, source);
        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (count > maxElements)
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' has {count} elements, more than the {maxElements} allowed.");
        }

        var type = (TensorProto.Types.DataType)t.DataType;
        int size = type switch
        {
            TensorProto.Types.DataType.Float => 4,
            TensorProto.Types.DataType.Double => 8,
            TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16 => 2,
            _ => throw new InvalidDataException($"{source}: tensor '{t.Name}' is {DtypeName(t.DataType)}; only float32, float16, bfloat16 and float64 weights are read."),
        };
        // The values are allocated only once the data are known to hold them: a small file declaring a large tensor
        // costs nothing.
        var shape = new TensorShape(dims.Length == 0 ? [1] : dims);
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
        {
            var bytes = ReadExternal(t, source, folder ?? throw new InvalidDataException(
                $"{source}: tensor '{t.Name}' keeps its data in an external file, which a model read from a stream cannot reach; load the model by its path."), count * size);
            return new NumPyArray(FromBytes(bytes, type, count), shape);
        }

        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * size)
            {
                throw new InvalidDataException($"{source}: tensor '{t.Name}' declares {count} elements of {size} bytes but holds {t.RawData.Length} bytes of raw_data.");
            }

            return new NumPyArray(FromBytes(t.RawData.Span, type, count), shape);
        }

        int held = type switch
        {
            TensorProto.Types.DataType.Float => t.FloatData.Count,
            TensorProto.Types.DataType.Double => t.DoubleData.Count,
            _ => t.Int32Data.Count, // float16 and bfloat16 values, one 16-bit pattern per int32
        };
        if (held != count)
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' declares {count} elements but holds {held} in its typed data field.");
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = type switch
            {
                TensorProto.Types.DataType.Float => t.FloatData[i],
                TensorProto.Types.DataType.Double => (float)t.DoubleData[i],
                TensorProto.Types.DataType.Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)t.Int32Data[i]),
                _ => BitConverter.Int32BitsToSingle((t.Int32Data[i] & 0xFFFF) << 16),
            };
        }

        return new NumPyArray(values, shape);
    }

    private static float[] FromBytes(ReadOnlySpan<byte> bytes, TensorProto.Types.DataType type, long count)
    {
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = type switch
            {
                TensorProto.Types.DataType.Float => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                TensorProto.Types.DataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]),
                TensorProto.Types.DataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16),
            };
        }

        return values;
    }

    /// <summary>
    /// The absolute path with every symbolic link on it resolved, component by component (what <c>realpath</c> gives);
    /// a component that does not exist is kept as written. At most 40 links are followed, as Linux does.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        string root = Path.GetPathRoot(fullPath) ?? string.Empty;
        var pending = new Stack<string>(fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }

            string next = Path.Combine(current, part);
            FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (entry.LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++links > 40)
            {
                throw new InvalidDataException($"{fullPath}: more than 40 symbolic links on the path.");
            }

            // The target's components go back on the stack: a relative target continues from the link's folder.
            string resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
            string targetRoot = Path.GetPathRoot(resolved) ?? string.Empty;
            foreach (string segment in resolved[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(segment);
            }

            current = targetRoot;
        }

        return current;
    }

    /// <summary>
    /// External data (ONNX's <c>location</c>, <c>offset</c>, <c>length</c>): a file inside the model's folder (no rooted
    /// path, no <c>..</c> or link leaving it), the declared length equal to the tensor's, within the file.
    /// </summary>
    private static byte[] ReadExternal(TensorProto t, string source, string folder, long length)
    {
        string? location = null;
        long offset = 0, declared = -1;
        foreach (var entry in t.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    location = entry.Value;
                    break;
                case "offset" when long.TryParse(entry.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long o):
                    offset = o;
                    break;
                case "length" when long.TryParse(entry.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long l):
                    declared = l;
                    break;
                case "offset" or "length":
                    throw new InvalidDataException($"{source}: tensor '{t.Name}' has external data {entry.Key} \"{entry.Value}\", not a non-negative integer.");
            }
        }

        if (string.IsNullOrEmpty(location) || Path.IsPathRooted(location) || location.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' has external data at \"{location}\"; it must be a relative path inside the model's folder.");
        }

        // Both the path as written and the path with every link resolved (a linked folder on the way as well as a
        // linked file) must stay inside the model's folder, itself taken with its links resolved.
        string root = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
        string file = Path.GetFullPath(Path.Combine(root, location));
        var info = new FileInfo(file);
        string realRoot = RealPath(Path.GetFullPath(folder)) + Path.DirectorySeparatorChar;
        if (!file.StartsWith(root, StringComparison.Ordinal) || !RealPath(file).StartsWith(realRoot, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' has external data at \"{location}\", which leaves the model's folder {folder}.");
        }

        if (declared >= 0 && declared != length)
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' declares {declared} bytes of external data but needs {length}.");
        }

        if (!info.Exists || offset > info.Length || info.Length - offset < length)
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' needs bytes {offset} to {offset + length} of {location}, which {(info.Exists ? $"has {info.Length}" : "does not exist")}.");
        }

        var bytes = new byte[length];
        using var stream = File.OpenRead(file);
        stream.Position = offset;
        stream.ReadExactly(bytes);
        return bytes;
    }
}
