using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace ILGpuDeconv;

/// <summary>
/// Hugging Face's <c>safetensors</c> format, as PyTorch users save weights: an 8-byte little-endian header
/// length, a JSON header mapping each name to <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (plus an
/// optional <c>__metadata__</c> of strings), then the raw little-endian data. Reads F32, F64, F16 and BF16 as
/// float; writes F32. Every header field is checked before any data is read.
/// </summary>
public static class SafeTensorsFormat
{
    /// <summary>The largest header accepted: the format's own limit (100 MB).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Lists the tensors of a safetensors file: name, dtype and shape, in the header's order.</summary>
    /// <param name="stream">The data (seekable).</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The tensors.</returns>
    /// <exception cref="InvalidDataException">The header is malformed; the message names the file, tensor and field.</exception>
    public static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(Stream stream, string source = "the safetensors data") =>
        ReaderGuard.Run<IReadOnlyList<(string Name, string Dtype, int[] Shape)>>(source, () => [.. ReadHeader(stream, source).Entries.Select(e => (e.Name, e.Dtype, e.Shape))]);

    /// <summary>Reads tensors as float (only those <paramref name="include"/> accepts; null reads all), each within <paramref name="maxElements"/>.</summary>
    /// <param name="stream">The data (seekable).</param>
    /// <param name="source">A name for messages.</param>
    /// <param name="include">Which tensors to read, by name; null reads all.</param>
    /// <param name="maxElements">The most elements any one tensor may have.</param>
    /// <returns>The tensors read, by name.</returns>
    /// <exception cref="InvalidDataException">The file is malformed or truncated, or a tensor is too large or of an unsupported dtype.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> Read(
        Stream stream, string source = "the safetensors data", Func<string, bool>? include = null, long maxElements = NumPyFormat.DefaultMaxElements)
    {
        return ReaderGuard.Run<IReadOnlyDictionary<string, NumPyArray>>(source, () =>
        {
            var header = ReadHeader(stream, source);
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var e in header.Entries.Where(e => include is null || include(e.Name)))
            {
                long elements = e.Shape.Aggregate(1L, (a, d) => a * d);
                if (elements > maxElements)
                {
                    throw new InvalidDataException($"{source}: tensor '{e.Name}' has {elements} elements, more than the {maxElements} allowed.");
                }

                stream.Position = header.DataStart + e.Begin;
                var bytes = new byte[e.End - e.Begin];
                if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) < bytes.Length)
                {
                    throw new InvalidDataException($"{source}: tensor '{e.Name}' is truncated: the file ends before byte {header.DataStart + e.End}.");
                }

                result[e.Name] = new NumPyArray(Decode(bytes, e.Dtype, (int)elements), new TensorShape(e.Shape));
            }

            return result;
        });
    }

    /// <summary>Writes float tensors as F32 safetensors, in the given order, with optional string metadata.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="tensors">The tensors by name.</param>
    /// <param name="metadata">The <c>__metadata__</c> strings, or null.</param>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, NumPyArray>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, array) in list)
            {
                array.Validate();
                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int d in array.Shape.Dimensions)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                offset += (long)array.Values.Length * sizeof(float);
                writer.WriteNumberValue(offset);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // The header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so the data is aligned.
        int padded = (int)((json.Length + 7) / 8 * 8);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json.GetBuffer().AsSpan(0, (int)json.Length));
        for (long i = json.Length; i < padded; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var (_, array) in list)
        {
            var bytes = new byte[array.Values.Length * sizeof(float)];
            for (int i = 0; i < array.Values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), array.Values[i]);
            }

            stream.Write(bytes);
        }
    }

    private sealed record Entry(string Name, string Dtype, int[] Shape, long Begin, long End);

    private sealed record Header(long DataStart, IReadOnlyList<Entry> Entries);

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" => 8,
        "F32" => 4,
        "F16" or "BF16" => 2,
        _ => 0,
    };

    private static Header ReadHeader(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position; // the file starts here
        long available = stream.Length - start;
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            throw new InvalidDataException($"{source} is not a safetensors file: shorter than its 8-byte header length.");
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length < 2 || length > MaxHeaderLength || (long)length > available - 8)
        {
            throw new InvalidDataException($"{source} is not a safetensors file: header length {length} (the file has {available} bytes; at most {MaxHeaderLength}).");
        }

        var json = new byte[length];
        stream.ReadExactly(json);
        long dataStart = start + 8 + (long)length;
        long dataLength = stream.Length - dataStart;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: the safetensors header is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source}: the safetensors header is not a JSON object.");
            }

            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new InvalidDataException($"{source}: the header names tensor '{property.Name}' twice.");
                }

                if (property.Name == "__metadata__")
                {
                    continue;
                }

                entries.Add(ParseEntry(property, source, dataLength));
            }

            // The tensors' data must not overlap (the reference reader requires them to tile the buffer exactly).
            long end = 0;
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                if (e.Begin < end)
                {
                    throw new InvalidDataException($"{source}: tensor '{e.Name}' overlaps the data of another tensor (data_offsets [{e.Begin}, {e.End}]).");
                }

                end = e.End;
            }

            return new Header(dataStart, entries);
        }
    }

    private static Entry ParseEntry(JsonProperty property, string source, long dataLength)
    {
        string name = property.Name;
        string Where(string field) => $"{source}: tensor '{name}', field '{field}'";
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' is not a JSON object.");
        }

        string dtype = value.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw new InvalidDataException($"{Where("dtype")} is missing or not a string.");
        int size = ElementSize(dtype);
        if (size == 0)
        {
            throw new InvalidDataException($"{Where("dtype")} is {dtype}; this reader takes F32, F64, F16 and BF16.");
        }

        if (!value.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{Where("shape")} is missing or not an array.");
        }

        var shape = new int[s.GetArrayLength()];
        long elements = 1;
        int k = 0;
        foreach (var dim in s.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int n) || n < 0)
            {
                throw new InvalidDataException($"{Where("shape")} holds {dim}, not a dimension (a non-negative 32-bit integer).");
            }

            shape[k++] = n;
            elements = n == 0 ? 0 : elements > long.MaxValue / n ? long.MaxValue : elements * n;
        }

        if (!value.TryGetProperty("data_offsets", out var o) || o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2
            || !o[0].TryGetInt64(out long begin) || !o[1].TryGetInt64(out long end))
        {
            throw new InvalidDataException($"{Where("data_offsets")} is missing or not a pair of integers.");
        }

        if (begin < 0 || end < begin || end > dataLength)
        {
            throw new InvalidDataException($"{Where("data_offsets")} is [{begin}, {end}], outside the {dataLength} bytes of data.");
        }

        if (elements > (end - begin) / size || elements * size != end - begin)
        {
            throw new InvalidDataException($"{Where("data_offsets")} spans {end - begin} bytes, but shape [{string.Join(", ", shape)}] of {dtype} needs {(elements == long.MaxValue ? "more" : (elements * size).ToString(System.Globalization.CultureInfo.InvariantCulture))}.");
        }

        return new Entry(name, dtype, shape, begin, end);
    }

    private static float[] Decode(byte[] bytes, string dtype, int elements)
    {
        var values = new float[elements];
        for (int i = 0; i < elements; i++)
        {
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4)),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8)),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2)),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)) << 16), // BF16
            };
        }

        return values;
    }
}
