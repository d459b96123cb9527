using System;
using System.Collections.Generic;

namespace ILGpuDeconv;

/// <summary>
/// The messages of one object header (version 1, or version 2 with its "OHDR" signature), continuation blocks
/// included, that a group or a dataset needs: the others (attributes, fill values, times) are skipped unread.
/// </summary>
internal sealed class Hdf5ObjectHeader
{
    private const ushort Dataspace = 0x01, LinkInfo = 0x02, Datatype = 0x03, Link = 0x06, Layout = 0x08, Filters = 0x0B, Continuation = 0x10, SymbolTable = 0x11;

    /// <summary>Where the header is (the object's identity).</summary>
    public long Address { get; private init; }

    /// <summary>The messages kept, in the header's order: type and body.</summary>
    public List<(ushort Type, Hdf5Reader Body, bool Shared)> Messages { get; } = [];

    /// <summary>Whether the object is a group: a symbol table, link information or links.</summary>
    public bool IsGroup => Messages.Exists(m => m.Type is SymbolTable or LinkInfo or Link);

    /// <summary>Whether the object is a dataset: it has a layout.</summary>
    public bool IsDataset => !IsGroup && Messages.Exists(m => m.Type == Layout);

    /// <summary>The first message of a type, if any.</summary>
    public bool TryGet(ushort type, out Hdf5Reader body, out bool shared)
    {
        foreach (var m in Messages)
        {
            if (m.Type == type)
            {
                (body, shared) = (m.Body, m.Shared);
                return true;
            }
        }

        (body, shared) = (default, false);
        return false;
    }

    /// <summary>Every message of a type, in order.</summary>
    public IEnumerable<Hdf5Reader> All(ushort type)
    {
        foreach (var m in Messages)
        {
            if (m.Type == type)
            {
                yield return m.Body;
            }
        }
    }

    /// <summary>Reads the header at <paramref name="address"/>.</summary>
    public static Hdf5ObjectHeader Read(Hdf5File file, long address, string path)
    {
        var header = new Hdf5ObjectHeader { Address = address };
        string what = $"the object header of '{path}'";
        var blocks = new Queue<(long Address, long Length)>();
        var seen = new HashSet<long> { address };
        var prefix = file.Reader(address, Math.Min(16, file.Length - address), what);
        bool version2 = prefix.Remaining >= 4 && prefix.Bytes(4).SequenceEqual("OHDR"u8);
        if (version2)
        {
            byte version = prefix.Byte();
            byte flags = prefix.Byte();
            if (version != 2)
            {
                throw file.Invalid($"{what} has version {version}");
            }

            int skip = ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
            int sizeBytes = 1 << (flags & 3);
            var sized = file.Reader(address + 6 + skip, sizeBytes, what);
            long chunk = (long)Math.Min(sized.Sized(sizeBytes), (ulong)file.Length);
            long start = address + 6 + skip + sizeBytes;
            ReadMessages(file, header, file.Reader(start, chunk, what), version2: true, (flags & 0x04) != 0, blocks, what);
            ReadContinuations(file, header, blocks, seen, version2: true, (flags & 0x04) != 0, what);
        }
        else
        {
            prefix.Position = 0;
            byte version = prefix.Byte();
            if (version != 1)
            {
                throw file.Invalid($"{what} has version {version}");
            }

            prefix.Skip(1 + 2 + 4); // reserved, message count (the blocks' extents are what bound the reading), reference count
            long size = prefix.UInt32();
            ReadMessages(file, header, file.Reader(address + 16, size, what), version2: false, false, blocks, what);
            ReadContinuations(file, header, blocks, seen, version2: false, false, what);
        }

        return header;
    }

    private static void ReadContinuations(Hdf5File file, Hdf5ObjectHeader header, Queue<(long Address, long Length)> blocks, HashSet<long> seen, bool version2, bool creationOrder, string what)
    {
        while (blocks.TryDequeue(out var block))
        {
            if (!seen.Add(block.Address))
            {
                throw file.Invalid($"{what} continues into a block it has already read");
            }

            file.Spend(1);
            var body = file.Reader(block.Address, block.Length, what);
            if (version2)
            {
                if (body.Remaining < 8 || !body.Bytes(4).SequenceEqual("OCHK"u8))
                {
                    throw file.Invalid($"{what} continues into a block without its signature");
                }

                body = file.Reader(block.Address + 4, block.Length - 8, what); // without the signature and checksum
            }

            ReadMessages(file, header, body, version2, creationOrder, blocks, what);
        }
    }

    private static void ReadMessages(Hdf5File file, Hdf5ObjectHeader header, Hdf5Reader block, bool version2, bool creationOrder, Queue<(long, long)> blocks, string what)
    {
        int headerSize = version2 ? 4 + (creationOrder ? 2 : 0) : 8;
        while (block.Remaining >= headerSize)
        {
            ushort type = version2 ? block.Byte() : block.UInt16();
            int size = block.UInt16();
            byte flags = block.Byte();
            block.Skip(version2 ? (creationOrder ? 2 : 0) : 3);
            if (size > block.Remaining)
            {
                throw file.Invalid($"{what} holds a message of {size} bytes in {block.Remaining}");
            }

            var body = new Hdf5Reader(file, block.Bytes(size).ToArray(), $"message {type} of {what}");
            file.Spend(1);
            if (type == Continuation)
            {
                long at = body.Address();
                long length = body.Length();
                if (at < 0)
                {
                    throw file.Invalid($"{what} continues at an undefined address");
                }

                blocks.Enqueue((at, length));
            }
            else if (type is Dataspace or LinkInfo or Datatype or Link or Layout or Filters or SymbolTable)
            {
                header.Messages.Add((type, body, (flags & 0x02) != 0));
            }
        }
    }
}
