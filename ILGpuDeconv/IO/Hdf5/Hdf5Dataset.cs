using System;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ILGpuDeconv;

/// <summary>
/// A dataset: its dataspace (dimensions), its datatype (only IEEE binary32 and binary64 are read as tensors; other
/// types are skipped) and its data, stored contiguously or compactly. Chunked storage (compression,
/// resizable datasets) is refused when read: Keras writes neither.
/// </summary>
internal sealed class Hdf5Dataset : Hdf5Node
{
    private const int MaxRank = 32;

    private readonly Hdf5File file;
    private readonly Hdf5ObjectHeader header;

    internal Hdf5Dataset(Hdf5File file, Hdf5ObjectHeader header, string path)
    {
        this.file = file;
        this.header = header;
        Path = path;
        Dimensions = ReadDataspace();
        (FloatSize, BigEndian) = ReadDatatype();
    }

    /// <summary>The path the dataset was reached by.</summary>
    public string Path { get; }

    /// <summary>The dimensions, outermost first (none for a scalar).</summary>
    public ulong[] Dimensions { get; }

    /// <summary>4 or 8 for IEEE binary32 or binary64 elements; 0 for any other type.</summary>
    public int FloatSize { get; }

    private bool BigEndian { get; }

    /// <summary>Reads the elements as float32 (binary64 rounded), after checking their extent against the file.</summary>
    public float[] ReadFloats()
    {
        if (FloatSize == 0)
        {
            throw file.Invalid($"dataset '{Path}' is not of floats");
        }

        ulong count = 1;
        foreach (ulong d in Dimensions)
        {
            count = d == 0 ? 0 : count <= (ulong)Array.MaxLength / d ? count * d : throw file.Invalid($"dataset '{Path}' has more elements than an array holds");
        }

        long bytes = (long)count * FloatSize;
        var (compact, address, stored) = ReadLayout();
        if (stored >= 0 && stored < bytes)
        {
            throw file.Invalid($"dataset '{Path}' stores {stored} bytes for {count} elements of {FloatSize}");
        }

        // Checked before the array is allocated: a dataset cannot ask for more than the file holds.
        if (compact is null && address >= 0 && (address > file.Length || bytes > file.Length - address))
        {
            throw file.Invalid($"the data of dataset '{Path}' ({bytes} bytes at {address}) lies outside the file of {file.Length} bytes");
        }

        var values = new float[count];
        if (compact is null && address < 0)
        {
            return values; // never written: HDF5's default fill value, zero
        }

        if (FloatSize == 4)
        {
            var raw = MemoryMarshal.AsBytes(values.AsSpan());
            Fill(compact, address, raw);
            if (BigEndian)
            {
                var words = MemoryMarshal.Cast<byte, uint>(raw);
                BinaryPrimitives.ReverseEndianness(words, words);
            }
        }
        else
        {
            // Doubles in slices, so that no second array of the dataset's full size is needed.
            var slice = new double[Math.Min((long)count, 1 << 16)];
            for (long done = 0; done < (long)count; done += slice.Length)
            {
                int n = (int)Math.Min(slice.Length, (long)count - done);
                var raw = MemoryMarshal.AsBytes(slice.AsSpan(0, n));
                if (compact is null)
                {
                    file.ReadData(address + (done * 8), raw, $"the data of dataset '{Path}'");
                }
                else
                {
                    compact.AsSpan((int)(done * 8), raw.Length).CopyTo(raw);
                }

                if (BigEndian)
                {
                    var words = MemoryMarshal.Cast<byte, ulong>(raw);
                    BinaryPrimitives.ReverseEndianness(words, words);
                }

                for (int i = 0; i < n; i++)
                {
                    values[done + i] = (float)slice[i];
                }
            }
        }

        return values;
    }

    private void Fill(byte[]? compact, long address, Span<byte> destination)
    {
        if (compact is null)
        {
            file.ReadData(address, destination, $"the data of dataset '{Path}'");
        }
        else
        {
            compact.AsSpan(0, destination.Length).CopyTo(destination);
        }
    }

    /// <summary>Dataspace message, version 1 or 2: rank, flags, then the dimensions (maximum dimensions ignored).</summary>
    private ulong[] ReadDataspace()
    {
        if (!header.TryGet(0x01, out var space, out bool shared) || shared)
        {
            throw file.Invalid($"dataset '{Path}' has no dataspace of its own");
        }

        byte version = space.Byte();
        int rank = space.Byte();
        space.Skip(1); // flags
        if (version == 1)
        {
            space.Skip(5);
        }
        else if (version == 2)
        {
            byte type = space.Byte();
            if (type == 2)
            {
                return [0]; // the null dataspace: no elements
            }
        }
        else
        {
            throw file.Invalid($"dataset '{Path}' has a dataspace of version {version}");
        }

        if (rank > MaxRank)
        {
            throw file.Invalid($"dataset '{Path}' has rank {rank}, more than HDF5's {MaxRank}");
        }

        var dims = new ulong[rank];
        for (int i = 0; i < rank; i++)
        {
            dims[i] = space.RawLength();
        }

        return dims;
    }

    /// <summary>Datatype message: class and version, class bits, size, then a float's properties.</summary>
    private (int FloatSize, bool BigEndian) ReadDatatype()
    {
        if (!header.TryGet(0x03, out var type, out bool shared) || shared)
        {
            return (0, false); // a committed (shared) type: Keras's floats never are
        }

        byte classAndVersion = type.Byte();
        var bits = type.Bytes(3);
        bool bigEndian = (bits[0] & 0x01) != 0;
        bool vax = (bits[0] & 0x40) != 0;
        uint size = type.UInt32();
        if ((classAndVersion & 0x0F) != 1 || size is not (4 or 8))
        {
            return (0, false); // not a float32 or float64 tensor (a count, a string, a float16): described, never read
        }

        ushort offset = type.UInt16();
        ushort precision = type.UInt16();
        byte exponentAt = type.Byte(), exponentSize = type.Byte(), mantissaAt = type.Byte(), mantissaSize = type.Byte();
        bool single = size == 4 && precision == 32 && exponentAt == 23 && exponentSize == 8 && mantissaSize == 23 && bits[1] == 31;
        bool @double = size == 8 && precision == 64 && exponentAt == 52 && exponentSize == 11 && mantissaSize == 52 && bits[1] == 63;
        if (vax || offset != 0 || mantissaAt != 0 || !(single || @double))
        {
            throw file.Invalid($"dataset '{Path}' has a floating-point type other than IEEE binary32 or binary64 ({size} bytes, precision {precision})");
        }

        return ((int)size, bigEndian);
    }

    /// <summary>Data layout message, version 3 or 4: compact data, or a contiguous block's address and size.</summary>
    private (byte[]? Compact, long Address, long Size) ReadLayout()
    {
        if (!header.TryGet(0x08, out var layout, out _))
        {
            throw file.Invalid($"dataset '{Path}' has no layout");
        }

        byte version = layout.Byte();
        if (version is not (3 or 4))
        {
            throw file.Invalid($"dataset '{Path}' has a layout of version {version}, which this reader does not take");
        }

        byte kind = layout.Byte();
        switch (kind)
        {
            case 0:
                int size = layout.UInt16();
                return (layout.Bytes(size).ToArray(), 0, size);
            case 1:
                long address = layout.Address();
                ulong length = layout.RawLength(); // may exceed the file when never written
                return (null, address, address < 0 ? -1 : (long)Math.Min(length, long.MaxValue));
            default:
                throw file.Invalid($"dataset '{Path}' is stored in chunks (layout class {kind}: compressed or resizable), which this reader does not take");
        }
    }
}
