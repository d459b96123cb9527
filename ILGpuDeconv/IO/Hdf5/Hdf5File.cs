using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace ILGpuDeconv;

/// <summary>
/// A reader of the HDF5 structures that Keras's files use (h5py's default format and PureHDF's): the superblock
/// (versions 0 to 3), object headers (versions 1 and 2, with continuation blocks), groups stored as symbol tables
/// (version 1 B-trees and local heaps) or as link messages, and datasets of IEEE floats stored contiguously or
/// compactly. Anything else is refused with an <see cref="InvalidDataException"/> naming the file.
/// </summary>
/// <remarks>
/// Our own, not PureHDF's: a general HDF5 library allocates what the file declares (a 13 KB file made PureHDF 2.2
/// allocate 1.5 GB for a fill value), and a reader of files from the internet must not. Here every structure is
/// checked against the file's length before anything is allocated for it, each B-tree node and object header is read
/// once (a cycle is refused), and the work a file can ask for is bounded by its length.
/// </remarks>
internal sealed partial class Hdf5File : IDisposable
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];

    private readonly Stream stream;
    private readonly bool leaveOpen;
    private readonly long baseAddress;
    private readonly Dictionary<long, Hdf5Node> nodes = [];
    private long budget;

    private Hdf5File(Stream stream, bool leaveOpen, string source)
    {
        this.stream = stream;
        this.leaveOpen = leaveOpen;
        Source = source;
        Length = stream.Length;

        // Structures a legitimate file holds take at least 8 bytes each: more work than that is a crafted file.
        budget = 4096 + (Length / 8);
        long at = FindSignature();
        Span<byte> head = stackalloc byte[2];
        ReadAt(at + 8, head);
        byte version = head[0];
        if (version is 0 or 1)
        {
            // Version 0 and 1: the sizes of offsets and lengths follow the versions of the other structures.
            Span<byte> fixedPart = stackalloc byte[16];
            ReadAt(at + 8, fixedPart);
            OffsetSize = fixedPart[5];
            LengthSize = fixedPart[6];
            CheckSizes();
            long fields = at + 8 + 16 + (version == 1 ? 4 : 0);
            var reader = Reader(fields, (4 * OffsetSize) + (2 * OffsetSize) + 24, "the superblock");
            baseAddress = (long)reader.Offset();
            reader.Skip(3 * OffsetSize); // free space, end of file, driver information
            reader.Skip(OffsetSize); // the root's symbol table entry: its link name offset, then its object header
            RootAddress = reader.Address();
        }
        else if (version is 2 or 3)
        {
            Span<byte> sizes = stackalloc byte[3];
            ReadAt(at + 9, sizes);
            OffsetSize = sizes[0];
            LengthSize = sizes[1];
            CheckSizes();
            var reader = Reader(at + 12, 4 * OffsetSize, "the superblock");
            baseAddress = (long)reader.Offset();
            reader.Skip(2 * OffsetSize); // superblock extension, end of file
            RootAddress = reader.Address();
        }
        else
        {
            throw Invalid($"superblock version {version}, which this reader does not take");
        }

        if (RootAddress < 0)
        {
            throw Invalid("the root group has no object header");
        }
    }

    /// <summary>The file's name in messages.</summary>
    public string Source { get; }

    /// <summary>The file's length in bytes: the bound on every structure read.</summary>
    public long Length { get; }

    /// <summary>The size of the file's addresses (2, 4 or 8 bytes).</summary>
    public int OffsetSize { get; }

    /// <summary>The size of the file's lengths (2, 4 or 8 bytes).</summary>
    public int LengthSize { get; }

    /// <summary>The root group.</summary>
    public Hdf5Group Root => Node(RootAddress, "/") as Hdf5Group ?? throw Invalid("the root object is not a group");

    private long RootAddress { get; }

    /// <summary>Opens an HDF5 file from a seekable stream (left open if <paramref name="leaveOpen"/>).</summary>
    public static Hdf5File Open(Stream stream, string source, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead)
        {
            throw new ArgumentException($"The stream of {source} must be readable and seekable.", nameof(stream));
        }

        return new Hdf5File(stream, leaveOpen, source);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!leaveOpen)
        {
            stream.Dispose();
        }
    }

    /// <summary>An <see cref="InvalidDataException"/> naming the file.</summary>
    internal InvalidDataException Invalid(string what) => new($"{Source} is not an HDF5 file this reader takes: {what}.");

    /// <summary>Charges <paramref name="units"/> of work against what the file's length allows.</summary>
    internal void Spend(long units)
    {
        budget -= units;
        if (budget < 0)
        {
            throw Invalid($"more structures than a file of {Length} bytes can hold (links or B-tree nodes repeat)");
        }
    }

    /// <summary>The group or dataset whose object header is at <paramref name="address"/>, read once; null for other objects.</summary>
    internal Hdf5Node? Node(long address, string path)
    {
        if (nodes.TryGetValue(address, out var known))
        {
            return known is Hdf5Other ? null : known;
        }

        Spend(1);
        var header = Hdf5ObjectHeader.Read(this, address, path);
        Hdf5Node node = header.IsGroup ? new Hdf5Group(this, header, path)
            : header.IsDataset ? new Hdf5Dataset(this, header, path)
            : new Hdf5Other();
        nodes[address] = node;
        return node is Hdf5Other ? null : node;
    }

    /// <summary>Reads <paramref name="length"/> bytes at a file address (relative to the base address) for <paramref name="what"/>.</summary>
    internal Hdf5Reader Reader(long address, long length, string what)
    {
        long at = address + baseAddress;
        if (address < 0 || length < 0 || at > Length || length > Length - at)
        {
            throw Invalid($"{what} ({length} bytes at {address}) lies outside the file of {Length} bytes");
        }

        var bytes = new byte[length];
        ReadAt(at, bytes);
        return new Hdf5Reader(this, bytes, what);
    }

    /// <summary>Reads raw data into <paramref name="destination"/>, checked against the file's length first.</summary>
    internal void ReadData(long address, Span<byte> destination, string what)
    {
        long at = address + baseAddress;
        if (address < 0 || at > Length || destination.Length > Length - at)
        {
            throw Invalid($"{what} ({destination.Length} bytes at {address}) lies outside the file of {Length} bytes");
        }

        ReadAt(at, destination);
    }

    /// <summary>Whether an address read from the file is HDF5's undefined address (all bits set).</summary>
    internal bool IsUndefined(ulong address) => OffsetSize == 8 ? address == ulong.MaxValue : address == (1UL << (8 * OffsetSize)) - 1;

    private void ReadAt(long at, Span<byte> destination)
    {
        if (at < 0 || destination.Length > Length - at)
        {
            throw Invalid($"{destination.Length} bytes at {at} lie outside the file of {Length} bytes");
        }

        stream.Position = at;
        stream.ReadExactly(destination);
    }

    private void CheckSizes()
    {
        if (OffsetSize is not (2 or 4 or 8) || LengthSize is not (2 or 4 or 8))
        {
            throw Invalid($"offsets of {OffsetSize} bytes and lengths of {LengthSize}");
        }
    }

    /// <summary>The superblock's place: offset 0, or after a user block of 512 bytes, 1024, 2048 and so on.</summary>
    private long FindSignature()
    {
        Span<byte> bytes = stackalloc byte[8];
        for (long at = 0; at + 64 <= Length; at = at == 0 ? 512 : at * 2)
        {
            ReadAt(at, bytes);
            if (bytes.SequenceEqual(Signature))
            {
                return at;
            }
        }

        throw Invalid("no HDF5 signature at offset 0 or after a user block");
    }
}

/// <summary>A group, a dataset, or (unread) another kind of object of an HDF5 file.</summary>
internal abstract class Hdf5Node;

/// <summary>An object that is neither a group nor a dataset (a committed datatype): skipped.</summary>
internal sealed class Hdf5Other : Hdf5Node;

/// <summary>Little-endian fields of one structure read whole from the file, each read checked against its end.</summary>
internal struct Hdf5Reader(Hdf5File file, byte[] bytes, string what)
{
    private int position;

    /// <summary>The bytes not yet read.</summary>
    public readonly int Remaining => bytes.Length - position;

    /// <summary>The position within the structure.</summary>
    public int Position
    {
        readonly get => position;
        set => position = value >= 0 && value <= bytes.Length ? value : throw file.Invalid($"{what} ends before its fields");
    }

    public byte Byte() => Take(1)[0];

    public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>An unsigned integer of <paramref name="size"/> bytes (1, 2, 4 or 8).</summary>
    public ulong Sized(int size) => size switch
    {
        1 => Byte(),
        2 => UInt16(),
        4 => UInt32(),
        8 => UInt64(),
        _ => throw file.Invalid($"a field of {size} bytes in {what}"),
    };

    /// <summary>A raw offset (the superblock's base address).</summary>
    public ulong Offset() => Sized(file.OffsetSize);

    /// <summary>A file address: -1 when undefined, else within the file's range of addresses.</summary>
    public long Address()
    {
        ulong value = Sized(file.OffsetSize);
        return file.IsUndefined(value) ? -1 : value < (ulong)file.Length ? (long)value : throw file.Invalid($"{what} points to {value}, past the file's {file.Length} bytes");
    }

    /// <summary>A length, which must fit the file.</summary>
    public long Length()
    {
        ulong value = Sized(file.LengthSize);
        return value <= (ulong)file.Length ? (long)value : throw file.Invalid($"{what} holds a length of {value}, more than the file's {file.Length} bytes");
    }

    /// <summary>A length that need not fit the file (a dimension of a dataspace).</summary>
    public ulong RawLength() => Sized(file.LengthSize);

    public void Skip(int count) => Take(count);

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw file.Invalid($"{what} ends before its fields");
        }

        var span = bytes.AsSpan(position, count);
        position += count;
        return span;
    }
}
