using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace ILGpuDeconv;

/// <summary>
/// Reads and writes NumPy's <c>.npy</c> (one array) and <c>.npz</c> (a zip of <c>.npy</c> files) as the
/// NumPy format specification defines them (versions 1.0 to 3.0). Reads float32 and float64 in either
/// byte order (float64 is rounded to float32, as Keras's <c>set_weights</c> casts); writes little-endian
/// float32, version 1.0. Anything else (another dtype, Fortran order, a truncated file, a malformed
/// header) is an <see cref="InvalidDataException"/> that says what is wrong.
/// </summary>
public static partial class NumPyFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes one array as <c>.npy</c> (version 1.0, <c>&lt;f4</c>, C order).</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="values">The values, row-major.</param>
    /// <param name="shape">Their shape.</param>
    /// <exception cref="ArgumentException">The values do not fill the shape.</exception>
    public static void WriteNpy(Stream stream, ReadOnlySpan<float> values, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shape);
        DeviceTensor.CheckLength(values, shape, nameof(values));
        string dims = shape.Rank == 1
            ? string.Create(CultureInfo.InvariantCulture, $"({shape[0]},)")
            : "(" + string.Join(", ", shape.Dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ", }";

        // Pad with spaces and a newline so that magic + version + length + header is a multiple of 64.
        int total = Magic.Length + 2 + 2 + header.Length + 1;
        header += new string(' ', (64 - (total % 64)) % 64) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)header.Length));
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
        var buffer = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * sizeof(float)), values[i]);
        }

        stream.Write(buffer);
    }

    /// <summary>The most elements one array may have unless the caller allows more: 2^28 floats, 1 GiB.</summary>
    public const long DefaultMaxElements = 1L << 28;

    /// <summary>The longest header read, as NumPy's own reader allows by default (<c>max_header_size</c>).</summary>
    public const int MaxHeaderLength = 10_000;

    /// <summary>
    /// Reads one <c>.npy</c> array. Memory stays bounded: the header may not exceed <see cref="MaxHeaderLength"/>
    /// bytes, the array <paramref name="maxElements"/> elements, and values are allocated as the data arrives,
    /// so a short file cannot make the reader allocate what its header promises.
    /// </summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages (a file name).</param>
    /// <param name="maxElements">The most elements to accept.</param>
    /// <returns>The array.</returns>
    /// <exception cref="InvalidDataException">The data is not a float <c>.npy</c> array in C order, is truncated, or is larger than allowed; the message names <paramref name="source"/> and the field.</exception>
    public static NumPyArray ReadNpy(Stream stream, string source = "the .npy data", long maxElements = DefaultMaxElements)
    {
        return ReaderGuard.Run<NumPyArray>(source, () =>
        {
            ArgumentNullException.ThrowIfNull(stream);
            var header = ReadHeader(stream, source);
            if (header.Count > maxElements)
            {
                throw new InvalidDataException(
                    $"{source}: field 'shape' ({string.Join(", ", header.Shape)}) holds {header.Count} elements, more than the {maxElements} this load allows.");
            }

            return new NumPyArray(ReadValues(stream, header, source), new TensorShape(header.Shape));
        });
    }

    /// <summary>Reads the header of a <c>.npy</c> array (its dtype and shape) and leaves the stream at the data.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The dtype descriptor and the shape.</returns>
    /// <exception cref="InvalidDataException">The header is malformed, too long, or describes no float array in C order.</exception>
    public static (string Dtype, int[] Shape) ReadNpyHeader(Stream stream, string source = "the .npy data")
    {
        return ReaderGuard.Run<(string Dtype, int[] Shape)>(source, () =>
        {
            ArgumentNullException.ThrowIfNull(stream);
            var header = ReadHeader(stream, source);
            return (header.Descr, header.Shape);
        });
    }

    private sealed record Header(string Descr, int[] Shape, long Count, int ItemSize, bool BigEndian);

    private static Header ReadHeader(Stream stream, string source)
    {
        var prefix = ReadExactly(stream, Magic.Length + 2, source, "the magic string and version");
        if (!prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source} is not a .npy file: it does not start with \\x93NUMPY.");
        }

        int major = prefix[Magic.Length];
        long headerLength = major switch
        {
            1 => BinaryPrimitives.ReadUInt16LittleEndian(ReadExactly(stream, 2, source, "the header length")),
            2 or 3 => BinaryPrimitives.ReadUInt32LittleEndian(ReadExactly(stream, 4, source, "the header length")),
            _ => throw new InvalidDataException($"{source} has .npy format version {major}.{prefix[Magic.Length + 1]}; versions 1.0 to 3.0 are known."),
        };
        if (headerLength > MaxHeaderLength)
        {
            throw new InvalidDataException($"{source}: the header length is {headerLength} bytes; NumPy writes and reads at most {MaxHeaderLength}.");
        }

        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(ReadExactly(stream, (int)headerLength, source, "the header"));
        var (descr, fortranOrder, shape) = ParseHeader(text, source);
        if (fortranOrder)
        {
            throw new InvalidDataException(
                $"{source} stores its array in Fortran (column-major) order; save it in C order (numpy.ascontiguousarray) first.");
        }

        var (itemSize, bigEndian) = descr switch
        {
            "<f4" or "|f4" or "=f4" => (4, false),
            ">f4" => (4, true),
            "<f8" or "=f8" => (8, false),
            ">f8" => (8, true),
            _ => throw new InvalidDataException($"{source}: field 'descr' holds dtype '{descr}'; only float32 ('<f4', '>f4') and float64 ('<f8', '>f8') are supported."),
        };

        if (shape.Length == 0 || shape.Any(d => d < 1))
        {
            throw new InvalidDataException(
                $"{source}: field 'shape' is ({string.Join(", ", shape)}); a weight needs at least one dimension and no empty ones.");
        }

        // The product saturates instead of wrapping, so a shape of huge dimensions cannot pass as small.
        long count = 1;
        foreach (int d in shape)
        {
            count = count > long.MaxValue / d ? long.MaxValue : count * d;
        }

        if (count > Array.MaxLength)
        {
            throw new InvalidDataException($"{source}: field 'shape' ({string.Join(", ", shape)}) holds {count} elements, too many for one array.");
        }

        return new Header(descr, shape, count, itemSize, bigEndian);
    }

    /// <summary>Reads the values in chunks, growing the array as data arrives (at most twice what the stream really holds).</summary>
    private static float[] ReadValues(Stream stream, Header header, string source)
    {
        const int ChunkBytes = 1 << 20;
        var values = new float[(int)Math.Min(header.Count, ChunkBytes / header.ItemSize)];
        var chunk = new byte[ChunkBytes];
        long done = 0;
        while (done < header.Count)
        {
            int items = (int)Math.Min(header.Count - done, ChunkBytes / header.ItemSize);
            int bytes = items * header.ItemSize;
            int read = stream.ReadAtLeast(chunk.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
            if (read < bytes)
            {
                long have = (done * header.ItemSize) + read;
                throw new InvalidDataException(
                    $"{source} is truncated: it ends after {have} of the {header.Count * header.ItemSize} bytes of {header.Count} elements of '{header.Descr}'.");
            }

            if (done + items > values.Length)
            {
                Array.Resize(ref values, (int)Math.Min(header.Count, Math.Max(done + items, 2L * values.Length)));
            }

            for (int i = 0; i < items; i++)
            {
                var b = chunk.AsSpan(i * header.ItemSize, header.ItemSize);
                values[done + i] = header.ItemSize == 4
                    ? (header.BigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b))
                    : (float)(header.BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b));
            }

            done += items;
        }

        return values;
    }

    /// <summary>Writes named arrays as <c>.npz</c>: a zip holding <c>NAME.npy</c> for each, as <c>numpy.savez</c> does.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="arrays">The arrays by name.</param>
    public static void WriteNpz(Stream stream, IEnumerable<KeyValuePair<string, NumPyArray>> arrays)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(arrays);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, array) in arrays)
        {
            array.Validate();
            using var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
            WriteNpy(entry, array.Values, array.Shape);
        }
    }

    /// <summary>
    /// Reads the arrays of an <c>.npz</c> file (stored or deflated, as <c>savez</c> and <c>savez_compressed</c> write).
    /// Only the entries <paramref name="include"/> accepts are inflated, each within <paramref name="maxElements"/>.
    /// </summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages.</param>
    /// <param name="include">Which arrays to read, by name (the entry name without <c>.npy</c>); null reads all.</param>
    /// <param name="maxElements">The most elements any one array may have.</param>
    /// <returns>The arrays read, by name.</returns>
    /// <exception cref="InvalidDataException">The data is not a zip of valid <c>.npy</c> files, two entries share a name, or an array is too large; the message names the file and the entry.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> ReadNpz(
        Stream stream, string source = "the .npz data", Func<string, bool>? include = null, long maxElements = DefaultMaxElements)
    {
        return ReaderGuard.Run<IReadOnlyDictionary<string, NumPyArray>>(source, () =>
        {
            ArgumentNullException.ThrowIfNull(stream);
            using var zip = OpenZip(stream, source);
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var (name, entry) in Entries(zip, source))
            {
                if (include is null || include(name))
                {
                    using var data = entry.Open();
                    result[name] = ReadNpy(data, $"{source}:{entry.FullName}", maxElements);
                }
            }

            return result;
        });
    }

    /// <summary>Lists the arrays of an <c>.npz</c> file with their dtypes and shapes, reading only their headers.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>Name, dtype and shape of every array, in the archive's order.</returns>
    /// <exception cref="InvalidDataException">The data is not a zip of valid <c>.npy</c> headers, or two entries share a name.</exception>
    public static IReadOnlyList<(string Name, string Dtype, int[] Shape)> ListNpz(Stream stream, string source = "the .npz data")
    {
        return ReaderGuard.Run<IReadOnlyList<(string Name, string Dtype, int[] Shape)>>(source, () =>
        {
            ArgumentNullException.ThrowIfNull(stream);
            using var zip = OpenZip(stream, source);
            var result = new List<(string, string, int[])>();
            foreach (var (name, entry) in Entries(zip, source))
            {
                using var data = entry.Open();
                var (dtype, shape) = ReadNpyHeader(data, $"{source}:{entry.FullName}");
                result.Add((name, dtype, shape));
            }

            return result;
        });
    }

    private static ZipArchive OpenZip(Stream stream, string source)
    {
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{source} is not a .npz file (not a zip archive): {ex.Message}", ex);
        }
    }

    /// <summary>The <c>.npy</c> entries by array name; a name twice is an error (NumPy would silently keep one).</summary>
    private static List<(string Name, ZipArchiveEntry Entry)> Entries(ZipArchive zip, string source)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<(string, ZipArchiveEntry)>();
        foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
        {
            string name = entry.FullName[..^4];
            if (!seen.Add(name))
            {
                throw new InvalidDataException($"{source} holds two entries named '{entry.FullName}'.");
            }

            entries.Add((name, entry));
        }

        return entries;
    }

    private static byte[] ReadExactly(Stream stream, int count, string source, string what)
    {
        var buffer = new byte[count];
        int read = stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        if (read < count)
        {
            throw new InvalidDataException($"{source} is truncated: it ends after {read} of the {count} bytes of {what}.");
        }

        return buffer;
    }

    private static (string Descr, bool FortranOrder, int[] Shape) ParseHeader(string header, string source)
    {
        string text = header.Trim();
        if (!text.StartsWith('{') || !text.EndsWith('}'))
        {
            throw new InvalidDataException($"{source} has a malformed header (not a Python dict): {Abbreviate(header)}");
        }

        var descr = DescrEntry().Match(text);
        var fortran = FortranEntry().Match(text);
        var shape = ShapeEntry().Match(text);
        if (!descr.Success || !fortran.Success || !shape.Success)
        {
            throw new InvalidDataException($"{source} has a header without 'descr', 'fortran_order' and 'shape': {Abbreviate(header)}");
        }

        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.TryParse(d.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out int v)
                ? v
                : throw new InvalidDataException($"{source}: field 'shape' holds a malformed shape '({shape.Groups[1].Value})'."))
            .ToArray();
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims);
    }

    private static string Abbreviate(string text) => text.Length <= 120 ? text.Trim() : text[..120] + "...";

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]+)['""]")]
    private static partial Regex DescrEntry();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranEntry();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeEntry();
}
