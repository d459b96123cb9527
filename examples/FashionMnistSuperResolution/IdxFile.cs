using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>
/// The IDX files MNIST and Fashion-MNIST ship in (optionally gzipped): a magic number whose third byte is the
/// element type (0x08, unsigned bytes) and fourth the rank, the dimensions as big-endian 32-bit integers,
/// then the data. Anything else is refused with the file and the field.
/// </summary>
internal static class IdxFile
{
    /// <summary>The most elements a file may declare: the 60,000 training images are 47 million bytes.</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>Reads an unsigned-byte IDX file of the expected rank.</summary>
    /// <param name="path">The file; read through gzip when it ends in <c>.gz</c>.</param>
    /// <param name="rank">The rank expected: 3 for images, 1 for labels.</param>
    /// <returns>The dimensions and the bytes.</returns>
    /// <exception cref="InvalidDataException">The file is not such an IDX file or is truncated.</exception>
    public static (int[] Dimensions, byte[] Data) Read(string path, int rank)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> magic = stackalloc byte[4];
        ReadExactly(stream, magic, path, "the magic number");
        if (magic[0] != 0 || magic[1] != 0)
        {
            throw new InvalidDataException($"{path} is not an IDX file: the magic number starts {magic[0]:x2} {magic[1]:x2}, not 00 00.");
        }

        if (magic[2] != 0x08)
        {
            throw new InvalidDataException($"{path}: the magic number's type byte is 0x{magic[2]:x2}; only unsigned bytes (0x08) are read.");
        }

        if (magic[3] != rank)
        {
            throw new InvalidDataException($"{path}: the magic number says rank {magic[3]}; {rank} was expected.");
        }

        var dims = new int[rank];
        long count = 1;
        Span<byte> word = stackalloc byte[4];
        for (int i = 0; i < rank; i++)
        {
            ReadExactly(stream, word, path, $"dimension {i}");
            uint d = BinaryPrimitives.ReadUInt32BigEndian(word);
            if (d == 0 || d > int.MaxValue)
            {
                throw new InvalidDataException($"{path}: dimension {i} is {d}.");
            }

            dims[i] = (int)d;
            count *= d;
            if (count > MaxElements)
            {
                throw new InvalidDataException($"{path}: the dimensions ({string.Join(", ", dims[..(i + 1)])}) hold more than {MaxElements} bytes.");
            }
        }

        var data = new byte[count];
        ReadExactly(stream, data, path, $"the {count} data bytes");
        return (dims, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new InvalidDataException($"{path} is truncated: it ends after {read} of the {buffer.Length} bytes of {what}.");
        }
    }
}
