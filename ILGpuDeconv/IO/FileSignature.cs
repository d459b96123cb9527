using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace ILGpuDeconv;

/// <summary>
/// What a weight file is by its first bytes, whatever its name says: a file named for one format and holding another
/// (a PyTorch <c>.pt</c> renamed <c>.npz</c>, say) is refused by naming what it is and which name or call reads it,
/// instead of a reader's puzzled verdict on bytes it never expected. Reads at most the first 64 bytes, and a zip's
/// list of entries.
/// </summary>
internal static class FileSignature
{
    private static readonly byte[] NumPyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private static readonly byte[] Hdf5Magic = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    // torch.save's legacy format: pickle protocol 2, then the magic number 0x1950a86a20f9469cfc6c as a long.
    private static readonly byte[] LegacyTorchMagic = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19];

    /// <summary>The formats a file's bytes can be told apart by.</summary>
    internal enum Kind
    {
        Unknown,
        Npy,
        Npz,
        SafeTensors,
        PyTorch,
        LegacyPyTorch,
        Hdf5,
        KerasArchive,
        Json,
        Onnx,
        OtherZip,
    }

    /// <summary>Refuses a file whose bytes are a format other than the one its name selects (an unknown signature is left to the reader).</summary>
    /// <exception cref="InvalidDataException">The bytes are another format; the message says which, and what reads it.</exception>
    public static void Require(Stream file, string path, WeightFileFormat named, bool npy)
    {
        long start = file.Position;
        var kind = Detect(file);
        file.Position = start;
        bool fits = kind == Kind.Unknown || (FormatOf(kind) == named && (kind == Kind.Npy) == npy);
        if (!fits)
        {
            throw new InvalidDataException(
                $"{path}: its name says {(npy ? "a NumPy .npy array" : Describe(named))}, but its bytes are {What(kind)}; {Reader(kind)}.");
        }
    }

    /// <summary>
    /// The reader a kind of bytes belongs to (a zip of other entries goes to the .npz reader, which says what it
    /// lacks), or null when the bytes are unknown.
    /// </summary>
    internal static WeightFileFormat? FormatOf(Kind kind) => kind switch
    {
        Kind.Npy or Kind.Npz or Kind.OtherZip => WeightFileFormat.Npz,
        Kind.SafeTensors => WeightFileFormat.SafeTensors,
        Kind.PyTorch or Kind.LegacyPyTorch => WeightFileFormat.PyTorch,
        Kind.Hdf5 or Kind.KerasArchive => WeightFileFormat.Keras,
        Kind.Json => WeightFileFormat.TensorFlowJs,
        Kind.Onnx => WeightFileFormat.Onnx,
        _ => null,
    };

    /// <summary>The format the first bytes of <paramref name="file"/> (from its current position) belong to.</summary>
    internal static Kind Detect(Stream file)
    {
        long start = file.Position;
        var head = new byte[64];
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, read);
        if (bytes.StartsWith(NumPyMagic))
        {
            return Kind.Npy;
        }

        if (bytes.StartsWith(Hdf5Magic))
        {
            return Kind.Hdf5;
        }

        if (bytes.StartsWith(LegacyTorchMagic))
        {
            return Kind.LegacyPyTorch;
        }

        if (bytes.StartsWith("PK\x03\x04"u8) || bytes.StartsWith("PK\x05\x06"u8))
        {
            file.Position = start;
            return ZipKind(file);
        }

        int first = 0;
        while (first < bytes.Length && bytes[first] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF)
        {
            first++;
        }

        if (first < bytes.Length && bytes[first] is (byte)'{' or (byte)'[')
        {
            return Kind.Json;
        }

        // safetensors: a little-endian 64-bit header length, then the JSON header itself.
        if (read >= 9 && bytes[8] == (byte)'{' && file.CanSeek)
        {
            ulong header = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            if (header >= 2 && header <= (ulong)Math.Max(0, file.Length - start - 8))
            {
                return Kind.SafeTensors;
            }
        }

        // An ONNX ModelProto starts with field 1, ir_version, a varint (protobuf tag 0x08) below 100.
        if (read >= 2 && bytes[0] == 0x08 && bytes[1] is > 0 and < 100)
        {
            return Kind.Onnx;
        }

        return Kind.Unknown;
    }

    private static Kind ZipKind(Stream file)
    {
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            if (names.Any(n => n == "data.pkl" || n.EndsWith("/data.pkl", StringComparison.Ordinal)))
            {
                return Kind.PyTorch;
            }

            if (names.Contains("config.json") && names.Any(n => n.EndsWith(".weights.h5", StringComparison.Ordinal)))
            {
                return Kind.KerasArchive;
            }

            return names.All(n => n.EndsWith(".npy", StringComparison.Ordinal)) ? Kind.Npz : Kind.OtherZip;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or ArgumentException)
        {
            return Kind.Unknown; // a damaged zip: the reader the name selects says what is wrong with it
        }
    }

    private static string Describe(WeightFileFormat format) => format switch
    {
        WeightFileFormat.SafeTensors => "a safetensors file",
        WeightFileFormat.PyTorch => "a PyTorch checkpoint",
        WeightFileFormat.TensorFlowJs => "a TF.js model.json",
        WeightFileFormat.Keras => "a Keras HDF5 or .keras file",
        WeightFileFormat.Onnx => "an ONNX model",
        _ => "a NumPy .npz archive",
    };

    private static string What(Kind kind) => kind switch
    {
        Kind.Npy => "a NumPy .npy array (numpy.save)",
        Kind.Npz => "a NumPy .npz archive (numpy.savez)",
        Kind.SafeTensors => "a safetensors file",
        Kind.PyTorch => "a PyTorch checkpoint (torch.save: a zip holding data.pkl)",
        Kind.LegacyPyTorch => "a legacy (before PyTorch 1.6, not a zip) torch.save file",
        Kind.Hdf5 => "an HDF5 file (Keras .weights.h5 or legacy .h5)",
        Kind.KerasArchive => "a Keras .keras archive (config.json and model.weights.h5)",
        Kind.Json => "JSON (such as a TF.js model.json)",
        Kind.Onnx => "an ONNX model (protobuf)",
        _ => "a zip archive of other files than .npy arrays",
    };

    private static string Reader(Kind kind) => kind switch
    {
        Kind.Npy => "LoadWeights reads it under a .npy name (the kernel alone)",
        Kind.Npz => "LoadWeights and WeightFiles.List read it under a .npz name",
        Kind.SafeTensors => "LoadWeights and WeightFiles.List read it under a .safetensors name",
        Kind.PyTorch => "LoadWeights (with WeightLayout.PyTorch) and WeightFiles.List read it under a .pt or .pth name",
        Kind.LegacyPyTorch => "save it again with a current PyTorch (torch.save(model.state_dict(), \"weights.pt\")) and load that",
        Kind.Hdf5 => "LoadWeights and WeightFiles.List read it under a .weights.h5 or .h5 name",
        Kind.KerasArchive => "LoadWeights and WeightFiles.List read it under a .keras name",
        Kind.Json => "LoadWeights reads a TF.js layers model under its model.json name, beside its weight shards",
        Kind.Onnx => "LoadWeights, WeightFiles.List and Conv2DTranspose.FromOnnx read it under a .onnx name",
        _ => "the library reads none of its entries",
    };
}
