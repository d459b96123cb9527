using System;
using System.Collections.Generic;
using System.Text;

namespace ILGpuDeconv;

/// <summary>
/// A group's links: a symbol table (a version 1 B-tree of symbol table nodes, names in a local heap; h5py's default)
/// or link messages in its header (PureHDF's, and h5py's newest format). Soft links and links to other files are
/// skipped (Keras writes neither; a tensor is listed by its hard path); links kept in a fractal heap (more than a
/// handful per group in the newest format) are refused.
/// </summary>
internal sealed class Hdf5Group : Hdf5Node
{
    private const int MaxBTreeDepth = 32;
    private const int MaxNameLength = 1 << 16;

    private readonly Hdf5File file;
    private readonly Hdf5ObjectHeader header;
    private List<(string Name, long Address)>? links;

    internal Hdf5Group(Hdf5File file, Hdf5ObjectHeader header, string path)
    {
        this.file = file;
        this.header = header;
        Path = path;
    }

    /// <summary>The path the group was reached by.</summary>
    public string Path { get; }

    /// <summary>The object a link names, or null if there is no such link or it is neither a group nor a dataset.</summary>
    public Hdf5Node? Child(string name)
    {
        foreach (var (linkName, address) in Links())
        {
            if (linkName == name)
            {
                return file.Node(address, Join(name));
            }
        }

        return null;
    }

    /// <summary>The groups and datasets the group links to, in the file's order (names sorted for symbol tables).</summary>
    public IEnumerable<(string Name, Hdf5Node Node)> Children()
    {
        var all = Links();
        file.Spend(all.Count); // a group reached many ways is listed many times: charged each time
        foreach (var (name, address) in all)
        {
            if (file.Node(address, Join(name)) is { } node)
            {
                yield return (name, node);
            }
        }
    }

    private string Join(string name) => Path == "/" ? "/" + name : $"{Path}/{name}";

    private List<(string Name, long Address)> Links()
    {
        if (links is not null)
        {
            return links;
        }

        var found = new List<(string, long)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name, long address)
        {
            if (!names.Add(name))
            {
                throw file.Invalid($"group '{Path}' has two links named '{name}'");
            }

            found.Add((name, address));
        }

        if (header.TryGet(0x11, out var table, out _))
        {
            long tree = table.Address();
            long heap = table.Address();
            if (tree >= 0)
            {
                WalkTree(tree, LocalHeap(heap), 0, [], Add);
            }
        }
        else
        {
            if (header.TryGet(0x02, out var info, out _))
            {
                info.Skip(1);
                byte flags = info.Byte();
                if ((flags & 1) != 0)
                {
                    info.Skip(8);
                }

                if (info.Address() >= 0)
                {
                    throw file.Invalid($"group '{Path}' keeps its links in a fractal heap (dense storage), which this reader does not take");
                }
            }

            foreach (var message in header.All(0x06))
            {
                var link = message;
                ReadLink(ref link, Add);
            }
        }

        links = found;
        return found;
    }

    /// <summary>A link message: version 1, flags, then the optional type, creation order and character set, the name and the target.</summary>
    private void ReadLink(ref Hdf5Reader link, Action<string, long> add)
    {
        if (link.Byte() != 1)
        {
            throw file.Invalid($"a link of group '{Path}' has a version other than 1");
        }

        byte flags = link.Byte();
        byte type = (flags & 0x08) != 0 ? link.Byte() : (byte)0;
        if ((flags & 0x04) != 0)
        {
            link.Skip(8);
        }

        if ((flags & 0x10) != 0)
        {
            link.Skip(1);
        }

        ulong length = link.Sized(1 << (flags & 3));
        if (length == 0 || length > MaxNameLength)
        {
            throw file.Invalid($"a link of group '{Path}' has a name of {length} bytes");
        }

        string name = Name(link.Bytes((int)length));
        if (type != 0)
        {
            return; // a soft or external link
        }

        long address = link.Address();
        if (address < 0)
        {
            throw file.Invalid($"link '{Join(name)}' points to an undefined address");
        }

        add(name, address);
    }

    /// <summary>A local heap: its data segment, where symbol table entries name their links.</summary>
    private byte[] LocalHeap(long address)
    {
        if (address < 0)
        {
            throw file.Invalid($"group '{Path}' has a symbol table without a local heap");
        }

        var heap = file.Reader(address, 8 + (2 * file.LengthSize) + file.OffsetSize, $"the local heap of '{Path}'");
        if (!heap.Bytes(4).SequenceEqual("HEAP"u8))
        {
            throw file.Invalid($"the local heap of '{Path}' lacks its signature");
        }

        heap.Skip(4); // version, reserved
        long size = heap.Length();
        heap.Skip(file.LengthSize); // the free list
        long data = heap.Address();
        file.Spend(1 + (size / 64));
        var segment = file.Reader(data, size, $"the local heap of '{Path}'");
        return segment.Bytes(segment.Remaining).ToArray();
    }

    /// <summary>A version 1 B-tree of a group: inner nodes lead to nodes, leaves to symbol table nodes ("SNOD").</summary>
    private void WalkTree(long address, byte[] heap, int depth, HashSet<long> seen, Action<string, long> add)
    {
        if (depth > MaxBTreeDepth || !seen.Add(address))
        {
            throw file.Invalid($"the B-tree of group '{Path}' is {(depth > MaxBTreeDepth ? "deeper than " + MaxBTreeDepth : "cyclic")}");
        }

        file.Spend(1);
        string what = $"a B-tree node of group '{Path}'";
        var node = file.Reader(address, 8 + (2 * file.OffsetSize), what);
        if (!node.Bytes(4).SequenceEqual("TREE"u8) || node.Byte() != 0)
        {
            throw file.Invalid($"{what} lacks its signature or is not a group node");
        }

        int level = node.Byte();
        int entries = node.UInt16();
        long keysAndChildren = file.LengthSize + ((long)entries * (file.LengthSize + file.OffsetSize));
        var body = file.Reader(address + 8 + (2 * file.OffsetSize), keysAndChildren, what);
        body.Skip(file.LengthSize); // keys: heap offsets of the names that bound each child, not needed to list them
        var children = new long[entries];
        for (int i = 0; i < entries; i++)
        {
            children[i] = body.Address();
            body.Skip(file.LengthSize);
        }

        foreach (long child in children)
        {
            if (child < 0)
            {
                throw file.Invalid($"{what} has an undefined child");
            }

            if (level > 0)
            {
                WalkTree(child, heap, depth + 1, seen, add);
            }
            else
            {
                SymbolTableNode(child, heap, seen, add);
            }
        }
    }

    private void SymbolTableNode(long address, byte[] heap, HashSet<long> seen, Action<string, long> add)
    {
        string what = $"a symbol table node of group '{Path}'";
        if (!seen.Add(address))
        {
            throw file.Invalid($"{what} is reached twice");
        }

        file.Spend(1);
        var node = file.Reader(address, 8, what);
        if (!node.Bytes(4).SequenceEqual("SNOD"u8))
        {
            throw file.Invalid($"{what} lacks its signature");
        }

        node.Skip(2); // version, reserved
        int symbols = node.UInt16();
        int entrySize = (2 * file.OffsetSize) + 24;
        var entries = file.Reader(address + 8, (long)symbols * entrySize, what);
        for (int i = 0; i < symbols; i++)
        {
            ulong nameOffset = entries.Offset();
            long target = entries.Address();
            uint cache = entries.UInt32();
            entries.Skip(20); // reserved, scratch pad
            string name = HeapName(heap, nameOffset);
            if (cache == 2)
            {
                continue; // a soft link
            }

            if (target < 0)
            {
                throw file.Invalid($"{what} has an entry '{name}' without an object header");
            }

            add(name, target);
        }
    }

    private string HeapName(byte[] heap, ulong offset)
    {
        if (offset >= (ulong)heap.Length)
        {
            throw file.Invalid($"a link name of group '{Path}' lies outside its local heap");
        }

        var rest = heap.AsSpan((int)offset, Math.Min(heap.Length - (int)offset, MaxNameLength + 1));
        int end = rest.IndexOf((byte)0);
        if (end <= 0)
        {
            throw file.Invalid($"a link name of group '{Path}' is empty or unterminated");
        }

        return Name(rest[..end]);
    }

    private string Name(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw file.Invalid($"a link name of group '{Path}' is not UTF-8");
        }
    }
}
