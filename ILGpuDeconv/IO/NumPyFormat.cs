using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using ILGpuDeconv.Tensors;

namespace ILGpuDeconv.IO;

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
        DeviceTensor.CheckLength(values.Length, shape, nameof(values));
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

    /// <summary>Reads one <c>.npy</c> array.</summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages (a file name).</param>
    /// <returns>The array.</returns>
    /// <exception cref="InvalidDataException">The data is not a float <c>.npy</c> array in C order, or is truncated.</exception>
    public static NumPyArray ReadNpy(Stream stream, string source = "the .npy data")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var prefix = ReadExactly(stream, Magic.Length + 2, source, "the magic string and version");
        if (!prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source} is not a .npy file: it does not start with \\x93NUMPY.");
        }

        int major = prefix[Magic.Length];
        int headerLength = major switch
        {
            1 => BinaryPrimitives.ReadUInt16LittleEndian(ReadExactly(stream, 2, source, "the header length")),
            2 or 3 => checked((int)BinaryPrimitives.ReadUInt32LittleEndian(ReadExactly(stream, 4, source, "the header length"))),
            _ => throw new InvalidDataException($"{source} has .npy format version {major}.{prefix[Magic.Length + 1]}; versions 1.0 to 3.0 are known."),
        };
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(ReadExactly(stream, headerLength, source, "the header"));
        var (descr, fortranOrder, shape) = ParseHeader(header, source);
        if (fortranOrder)
        {
            throw new InvalidDataException(
                $"{source} stores its array in Fortran (column-major) order; save it in C order (numpy.ascontiguousarray) first.");
        }

        int itemSize;
        bool bigEndian;
        switch (descr)
        {
            case "<f4" or "|f4" or "=f4":
                (itemSize, bigEndian) = (4, false);
                break;
            case ">f4":
                (itemSize, bigEndian) = (4, true);
                break;
            case "<f8" or "=f8":
                (itemSize, bigEndian) = (8, false);
                break;
            case ">f8":
                (itemSize, bigEndian) = (8, true);
                break;
            default:
                throw new InvalidDataException($"{source} holds dtype '{descr}'; only float32 ('<f4', '>f4') and float64 ('<f8', '>f8') are supported.");
        }

        if (shape.Length == 0 || shape.Any(d => d < 1))
        {
            throw new InvalidDataException(
                $"{source} has shape ({string.Join(", ", shape)}); a weight needs at least one dimension and no empty ones.");
        }

        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count > Array.MaxLength / itemSize)
        {
            throw new InvalidDataException($"{source} has shape ({string.Join(", ", shape)}): {count} elements are too many to load.");
        }

        var data = ReadExactly(stream, (int)(count * itemSize), source, $"{count} elements of '{descr}' ({count * itemSize} bytes)");
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            var bytes = data.AsSpan(i * itemSize, itemSize);
            values[i] = itemSize == 4
                ? (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes))
                : (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes));
        }

        return new NumPyArray(values, new TensorShape(shape));
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

    /// <summary>Reads every array of an <c>.npz</c> file (stored or deflated, as <c>savez</c> and <c>savez_compressed</c> write).</summary>
    /// <param name="stream">The data.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The arrays by name (the entry names without <c>.npy</c>).</returns>
    /// <exception cref="InvalidDataException">The data is not a zip of valid <c>.npy</c> files.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> ReadNpz(Stream stream, string source = "the .npz data")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{source} is not a .npz file (not a zip archive): {ex.Message}", ex);
        }

        using (zip)
        {
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                {
                    continue;
                }

                using var data = entry.Open();
                string name = entry.FullName[..^4];
                result[name] = ReadNpy(data, $"{source}:{entry.FullName}");
            }

            return result;
        }
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
                : throw new InvalidDataException($"{source} has a malformed shape '({shape.Groups[1].Value})'."))
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
