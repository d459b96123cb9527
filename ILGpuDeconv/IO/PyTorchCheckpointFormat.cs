using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;

namespace ILGpuDeconv;

/// <summary>
/// PyTorch's <c>torch.save</c> files of a <c>state_dict</c> (<c>.pt</c>, <c>.pth</c>): a zip holding
/// <c>ARCHIVE/data.pkl</c>, a pickle, and <c>ARCHIVE/data/KEY</c>, the raw storages. The pickle is read by a
/// small interpreter of the few opcodes a state_dict uses, which builds only names, numbers, tuples, lists,
/// dicts and tensor references: it never runs code or constructs other types, and refuses any global but
/// <c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c>
/// and the float storages. Nested dicts (a checkpoint holding a state_dict) give dotted names.
/// </summary>
public static class PyTorchCheckpointFormat
{
    /// <summary>The largest pickle accepted, in bytes (a state_dict's pickle holds names and shapes only).</summary>
    public const int MaxPickleLength = 64 << 20;

    // Checkpoints nest a state_dict a few dicts deep; a pickle can nest without end.
    private const int MaxNesting = 64;

    /// <summary>Lists the tensors of a state_dict file: dotted name, dtype (<c>float32</c>, ...) and shape, in the file's order.</summary>
    /// <param name="stream">The data (seekable).</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The tensors.</returns>
    /// <exception cref="InvalidDataException">Not such a file, or its pickle holds something else; the message names the file and what was found.</exception>
    public static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(Stream stream, string source = "the PyTorch file")
    {
        return ReaderGuard.Run<IReadOnlyList<(string Name, string Dtype, int[] Shape)>>(source, () =>
        {
            using var zip = Open(stream, source);
            return [.. Tensors(zip, source).Select(t => (t.Name, DtypeName(t.Storage), t.Shape))];
        });
    }

    /// <summary>Reads tensors as float (only those <paramref name="include"/> accepts; null reads all), each within <paramref name="maxElements"/>.</summary>
    /// <param name="stream">The data (seekable).</param>
    /// <param name="source">A name for messages.</param>
    /// <param name="include">Which tensors to read, by dotted name; null reads all.</param>
    /// <param name="maxElements">The most elements any one tensor may have.</param>
    /// <returns>The tensors read, by name, row-major.</returns>
    /// <exception cref="InvalidDataException">The file is malformed, a storage is too short, or a tensor too large.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> Read(
        Stream stream, string source = "the PyTorch file", Func<string, bool>? include = null, long maxElements = NumPyFormat.DefaultMaxElements)
    {
        return ReaderGuard.Run<IReadOnlyDictionary<string, NumPyArray>>(source, () =>
        {
            using var zip = Open(stream, source);
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var t in Tensors(zip, source).Where(t => include is null || include(t.Name)))
            {
                long elements = t.Shape.Aggregate(1L, (a, d) => a * d);
                if (elements > maxElements)
                {
                    throw new InvalidDataException($"{source}: tensor '{t.Name}' has {elements} elements, more than the {maxElements} allowed.");
                }

                result[t.Name] = new NumPyArray(Gather(zip, t, (int)elements, source), new TensorShape(t.Shape));
            }

            return result;
        });
    }

    private sealed record TensorRef(string Name, string Storage, string Key, long Offset, int[] Shape, long[] Strides, string Archive);

    private static ZipArchive Open(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> magic = stackalloc byte[2];
        long start = stream.Position;
        if (stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x80)
        {
            throw new InvalidDataException($"{source} is a legacy (pre-1.6, non-zip) torch.save file; save it again with a current PyTorch (the default zip format).");
        }

        stream.Position = start;
        try
        {
            return new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{source} is not a PyTorch zip file: {ex.Message}", ex);
        }
    }

    private static List<TensorRef> Tensors(ZipArchive zip, string source)
    {
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pickles.Count != 1)
        {
            throw new InvalidDataException($"{source} holds {pickles.Count} ARCHIVE/data.pkl entries, not one: not a torch.save file.");
        }

        var entry = pickles[0];
        if (entry.Length > MaxPickleLength)
        {
            throw new InvalidDataException($"{source}:{entry.FullName} is {entry.Length} bytes, more than the {MaxPickleLength} a state_dict's pickle needs.");
        }

        byte[] bytes = ReadEntry(entry, entry.Length, () => new InvalidDataException($"{source}:{entry.FullName} is truncated."));

        string archive = entry.FullName[..entry.FullName.IndexOf('/', StringComparison.Ordinal)];
        object root = new Unpickler(bytes, $"{source}:{entry.FullName}").Run();
        var tensors = new List<TensorRef>();
        long budget = 1024 + bytes.Length;
        Collect(root, string.Empty, tensors, archive, $"{source}:{entry.FullName}", 0, ref budget);
        if (tensors.Select(t => t.Name).Distinct(StringComparer.Ordinal).Count() != tensors.Count)
        {
            throw new InvalidDataException($"{source}: two tensors have the same name.");
        }

        return tensors;
    }

    /// <summary>
    /// Walks dicts (and tensors in them), giving dotted names; other values (numbers, strings) are skipped. A pickle can
    /// make a dict hold itself, or one dict many times over (its memo), so the walk has a depth limit and a budget of
    /// visits bounded by the pickle's length: without them a file of 253 bytes overflowed the stack.
    /// </summary>
    private static void Collect(object value, string prefix, List<TensorRef> tensors, string archive, string source, int depth, ref long budget)
    {
        if (depth > MaxNesting)
        {
            throw new InvalidDataException($"{source}: dicts nest deeper than {MaxNesting} at '{prefix}' (a dict that holds itself?).");
        }

        if (--budget < 0)
        {
            throw new InvalidDataException($"{source}: the pickle reaches more values than its length allows (one dict held many times over).");
        }

        switch (value)
        {
            case PickleDict dict:
                foreach (var (key, item) in dict.Items)
                {
                    if (key is string name)
                    {
                        Collect(item, prefix.Length == 0 ? name : $"{prefix}.{name}", tensors, archive, source, depth + 1, ref budget);
                    }
                }

                break;
            case PickleReduce { Function: var f } reduce when f is ("torch._utils", "_rebuild_tensor_v2"):
                tensors.Add(TensorOf(reduce, prefix, archive, source));
                break;
            case PickleReduce { Function: ("torch._utils", "_rebuild_parameter"), Arguments: [PickleReduce tensor, ..] }:
                Collect(tensor, prefix, tensors, archive, source, depth + 1, ref budget);
                break;
        }
    }

    private static TensorRef TensorOf(PickleReduce reduce, string name, string archive, string source)
    {
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (reduce.Arguments is not [PicklePersistent storage, long offset, List<object> size, List<object> stride, ..] || size.Count != stride.Count)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' is not (storage, offset, size, stride, ...).");
        }

        if (storage.Id is not ["storage", PickleGlobal("torch", string type), string key, string, long] || ElementSize(type) == 0)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has a storage this reader does not take (float32, float64, float16 and bfloat16 are read).");
        }

        if (key.Contains('/', StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal) || key.Contains("..", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: tensor '{name}' names storage '{key}', not a plain key.");
        }

        var shape = size.Select(d => d is long v && v >= 0 && v <= int.MaxValue ? (int)v : throw new InvalidDataException($"{source}: tensor '{name}' has size {d}.")).ToArray();
        var strides = stride.Select(d => d is long v && v >= 0 ? v : throw new InvalidDataException($"{source}: tensor '{name}' has stride {d}.")).ToArray();
        if (offset < 0)
        {
            throw new InvalidDataException($"{source}: tensor '{name}' has storage offset {offset}.");
        }

        return new TensorRef(name, type, key, offset, shape, strides, archive);
    }

    private static int ElementSize(string storage) => storage switch
    {
        "FloatStorage" => 4,
        "DoubleStorage" => 8,
        "HalfStorage" or "BFloat16Storage" => 2,
        _ => 0,
    };

    private static string DtypeName(string storage) => storage switch
    {
        "FloatStorage" => "float32",
        "DoubleStorage" => "float64",
        "HalfStorage" => "float16",
        _ => "bfloat16",
    };

    /// <summary>
    /// Reads the first <paramref name="length"/> bytes of an entry. The buffer grows with the bytes that arrive rather
    /// than being sized from the zip header, which a hostile file sets freely: a 1.4 KB mutant declaring a 16 MiB pickle
    /// made the reader allocate 16 MiB before finding the entry empty.
    /// </summary>
    private static byte[] ReadEntry(ZipArchiveEntry entry, long length, Func<InvalidDataException> truncated)
    {
        var buffer = new byte[Math.Min(length, 1 << 16)];
        int filled = 0;
        using var data = entry.Open();
        while (filled < length)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            }

            int read = data.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                throw truncated();
            }

            filled += read;
        }

        return buffer;
    }

    /// <summary>Reads a tensor's elements from its storage through its strides, checking every index against the storage.</summary>
    private static float[] Gather(ZipArchive zip, TensorRef t, int elements, string source)
    {
        int size = ElementSize(t.Storage);
        var entry = zip.GetEntry($"{t.Archive}/data/{t.Key}") ?? throw new InvalidDataException($"{source}: tensor '{t.Name}' refers to storage '{t.Key}', which the file lacks.");
        long last = t.Offset;
        for (int i = 0; i < t.Shape.Length; i++)
        {
            last += t.Shape[i] == 0 ? 0 : (t.Shape[i] - 1) * t.Strides[i];
        }

        long storageElements = entry.Length / size;
        if (elements > 0 && last >= storageElements)
        {
            throw new InvalidDataException($"{source}: tensor '{t.Name}' reaches element {last} of storage '{t.Key}', which holds {storageElements}.");
        }

        byte[] bytes = ReadEntry(entry, elements == 0 ? 0 : (last + 1) * size, () => new InvalidDataException($"{source}: storage '{t.Key}' of tensor '{t.Name}' is truncated."));

        var values = new float[elements];
        var index = new int[t.Shape.Length];
        for (int i = 0; i < elements; i++)
        {
            long at = t.Offset;
            for (int d = 0; d < index.Length; d++)
            {
                at += index[d] * t.Strides[d];
            }

            var span = bytes.AsSpan((int)(at * size));
            values[i] = t.Storage switch
            {
                "FloatStorage" => BinaryPrimitives.ReadSingleLittleEndian(span),
                "DoubleStorage" => (float)BinaryPrimitives.ReadDoubleLittleEndian(span),
                "HalfStorage" => (float)BinaryPrimitives.ReadHalfLittleEndian(span),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span) << 16),
            };
            for (int d = index.Length - 1; d >= 0 && ++index[d] == t.Shape[d]; d--)
            {
                index[d] = 0;
            }
        }

        return values;
    }

    private sealed record PickleGlobal(string Module, string Name);

    private sealed record PickleReduce((string Module, string Name) Function, List<object> Arguments);

    private sealed record PicklePersistent(List<object> Id);

    private sealed class PickleDict
    {
        public List<(object Key, object Value)> Items { get; } = [];
    }

    private sealed class PickleNone
    {
        public static readonly PickleNone Value = new();
    }

    /// <summary>The interpreter: a stack, a memo and marks; anything outside a state_dict's opcodes is refused.</summary>
    private sealed class Unpickler(byte[] data, string source)
    {
        private const int MaxObjects = 1 << 22;
        private readonly List<object> stack = [];
        private readonly Stack<int> marks = new();
        private readonly Dictionary<long, object> memo = [];
        private int position;
        private int created;

        public object Run()
        {
            while (true)
            {
                if (++created > MaxObjects)
                {
                    throw Bad("holds more operations than a state_dict needs");
                }

                byte op = Byte();
                switch (op)
                {
                    case 0x80: Byte(); break; // PROTO
                    case (byte)'.': return stack.Count == 1 ? stack[0] : throw Bad("ends with a stack of " + stack.Count);
                    case (byte)'}': stack.Add(new PickleDict()); break;
                    case (byte)']': stack.Add(new List<object>()); break;
                    case (byte)')': stack.Add(new List<object>()); break;
                    case (byte)'(': marks.Push(stack.Count); break;
                    case (byte)'N': stack.Add(PickleNone.Value); break;
                    case 0x88: stack.Add(true); break;
                    case 0x89: stack.Add(false); break;
                    case (byte)'K': stack.Add((long)Byte()); break;
                    case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case 0x8a: stack.Add(Long1()); break;
                    case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                    case (byte)'X': stack.Add(Text(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))); break;
                    case 0x8c: stack.Add(Text(Byte())); break; // SHORT_BINUNICODE
                    case (byte)'q': memo[Byte()] = Top(); break;
                    case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Top(); break;
                    case (byte)'h': stack.Add(Memo(Byte())); break;
                    case (byte)'j': stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                    case (byte)'c': stack.Add(Global()); break;
                    case (byte)'t': stack.Add(PopMark()); break;
                    case 0x85: stack.Add(Pop(1)); break;
                    case 0x86: stack.Add(Pop(2)); break;
                    case 0x87: stack.Add(Pop(3)); break;
                    case (byte)'Q': stack.Add(new PicklePersistent(Pop() as List<object> ?? throw Bad("has a persistent id that is not a tuple"))); break;
                    case (byte)'R': Reduce(); break;
                    case (byte)'s': SetItems(Pop(2)); break;
                    case (byte)'u': SetItems(PopMark()); break;
                    case (byte)'a': Append(Pop(1)); break;
                    case (byte)'e': Append(PopMark()); break;
                    case (byte)'b': Pop(); break; // BUILD: the state (an OrderedDict's _metadata) is not needed
                    default:
                        throw Bad($"uses pickle opcode 0x{op:x2} at byte {position - 1}, which a state_dict does not need; it is not read");
                }
            }
        }

        private InvalidDataException Bad(string what) => new($"{source} {what}.");

        private byte Byte() => position < data.Length ? data[position++] : throw Bad("ends early");

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > data.Length - position)
            {
                throw Bad("ends early");
            }

            position += count;
            return data.AsSpan(position - count, count);
        }

        private string Text(int length) => Encoding.UTF8.GetString(Take(length));

        private long Long1()
        {
            var bytes = Take(Byte());
            if (bytes.Length > 8)
            {
                throw Bad("holds an integer of more than 64 bits");
            }

            long value = 0;
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                value = (value << 8) | bytes[i];
            }

            return bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0 ? value - (1L << (8 * bytes.Length)) : value;
        }

        private string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', position);
            if (end < 0 || end - position > 256)
            {
                throw Bad("has a malformed GLOBAL");
            }

            string line = Encoding.ASCII.GetString(data, position, end - position);
            position = end + 1;
            return line;
        }

        private PickleGlobal Global()
        {
            var global = new PickleGlobal(Line(), Line());
            bool allowed = global switch
            {
                ("collections", "OrderedDict") or ("torch._utils", "_rebuild_tensor_v2") or ("torch._utils", "_rebuild_parameter") => true,
                ("torch", "FloatStorage" or "DoubleStorage" or "HalfStorage" or "BFloat16Storage") => true,
                _ => false,
            };
            if (allowed)
            {
                return global;
            }

            // A class of torch.nn (or the user's own module) is what torch.save(model) pickles: the whole module, code
            // and all, which only PyTorch can rebuild. Its state_dict holds the same weights as plain tensors.
            string hint = global.Module.StartsWith("torch.nn", StringComparison.Ordinal) || global.Module == "__main__"
                ? "; it looks like a whole module saved with torch.save(model): save torch.save(model.state_dict(), path) instead and load that"
                : string.Empty;
            throw Bad($"refers to {global.Module}.{global.Name}, which a state_dict of float tensors does not need; it is not loaded{hint}");
        }

        private object Top() => stack.Count > 0 ? stack[^1] : throw Bad("reads an empty stack");

        private object Pop()
        {
            var value = Top();
            stack.RemoveAt(stack.Count - 1);
            return value;
        }

        private List<object> Pop(int count)
        {
            if (stack.Count < count)
            {
                throw Bad("reads an empty stack");
            }

            var items = stack.GetRange(stack.Count - count, count);
            stack.RemoveRange(stack.Count - count, count);
            return items;
        }

        private List<object> PopMark()
        {
            if (marks.Count == 0 || marks.Peek() > stack.Count)
            {
                throw Bad("pops a mark it did not set");
            }

            return Pop(stack.Count - marks.Pop());
        }

        private object Memo(long key) => memo.TryGetValue(key, out var value) ? value : throw Bad($"reads memo {key}, which was never stored");

        private void Reduce()
        {
            var arguments = Pop() as List<object> ?? throw Bad("applies a function to arguments that are not a tuple");
            var function = Pop() as PickleGlobal ?? throw Bad("applies something that is not an allowed global");
            stack.Add(function switch
            {
                ("collections", "OrderedDict") when arguments.Count == 0 => new PickleDict(),
                ("torch._utils", _) => new PickleReduce((function.Module, function.Name), arguments),
                _ => throw Bad($"calls {function.Module}.{function.Name} with {arguments.Count} arguments; not read"),
            });
        }

        private void SetItems(List<object> pairs)
        {
            if (Top() is not PickleDict dict || pairs.Count % 2 != 0)
            {
                throw Bad("sets items on something that is not a dict");
            }

            for (int i = 0; i < pairs.Count; i += 2)
            {
                dict.Items.Add((pairs[i], pairs[i + 1]));
            }
        }

        private void Append(List<object> items)
        {
            if (Top() is not List<object> list)
            {
                throw Bad("appends to something that is not a list");
            }

            list.AddRange(items);
        }
    }
}
