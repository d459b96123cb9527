using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text.Json;
using PureHDF;

namespace ILGpuDeconv;

/// <summary>
/// Keras's HDF5 weight files, read by the project's own bounded HDF5 reader (<see cref="Hdf5File"/>) and written with
/// PureHDF: Keras 3's <c>.weights.h5</c>
/// (<c>layers/CLASS_NAME[_N]/vars/I</c>, a layer's variables in order: 0 the kernel, 1 the bias), the
/// <c>.keras</c> zip that holds one beside its <c>config.json</c>, and the legacy Keras 2 / TF 2 <c>.h5</c>
/// (<c>model_weights/LAYER/LAYER/kernel:0</c>). Tensors are named <c>LAYER/kernel</c> and <c>LAYER/bias</c>
/// (Keras 3, with the layer names of <c>config.json</c> when there is one, else the group names) or by their
/// path (legacy).
/// </summary>
public static class KerasWeightsFormat
{
    /// <summary>The largest <c>model.weights.h5</c> a <c>.keras</c> file may hold (it is copied into memory to be read).</summary>
    public const long MaxArchivedWeightsLength = 4L << 30;

    private const int MaxDepth = 16;

    /// <summary>Lists the float tensors of a Keras weight file: name, dtype (<c>float32</c>, <c>float64</c>) and shape.</summary>
    /// <param name="path">A <c>.weights.h5</c>, <c>.keras</c> or legacy <c>.h5</c> file.</param>
    /// <returns>The tensors, in the file's order.</returns>
    /// <exception cref="InvalidDataException">The file is not such a file; the message names it.</exception>
    public static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = File.OpenRead(path);
        return List(file, path, IsArchive(path));
    }

    /// <summary>The tensors of a Keras file read from a stream (seekable; not closed): <paramref name="archive"/> for a <c>.keras</c> zip.</summary>
    internal static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(Stream stream, string source, bool archive)
    {
        return ReaderGuard.Run<IReadOnlyList<(string Name, string Dtype, int[] Shape)>>(source, () =>
        {
            using var file = KerasFile.Open(stream, source, archive);
            return [.. file.Entries.Select(e => (e.Name, e.Dtype, e.Shape))];
        });
    }

    /// <summary>Reads tensors as float (only those <paramref name="include"/> accepts; null reads all), each within <paramref name="maxElements"/>.</summary>
    /// <param name="path">A <c>.weights.h5</c>, <c>.keras</c> or legacy <c>.h5</c> file.</param>
    /// <param name="include">Which tensors to read, by name; null reads all.</param>
    /// <param name="maxElements">The most elements any one tensor may have.</param>
    /// <returns>The tensors read, by name.</returns>
    /// <exception cref="InvalidDataException">The file is malformed, or a tensor too large.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> Read(string path, Func<string, bool>? include = null, long maxElements = NumPyFormat.DefaultMaxElements)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        return Read(stream, path, IsArchive(path), include, maxElements);
    }

    /// <summary>Reads tensors of a Keras file from a stream (seekable; not closed), as <see cref="Read(string, Func{string, bool}?, long)"/>.</summary>
    internal static IReadOnlyDictionary<string, NumPyArray> Read(Stream stream, string path, bool archive, Func<string, bool>? include, long maxElements)
    {
        return ReaderGuard.Run<IReadOnlyDictionary<string, NumPyArray>>(path, () =>
        {
            using var file = KerasFile.Open(stream, path, archive);
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var e in file.Entries.Where(e => include is null || include(e.Name)))
            {
                long elements = e.Shape.Aggregate(1L, (a, d) => a * d);
                if (elements > maxElements)
                {
                    throw new InvalidDataException($"{path}: dataset '{e.Path}' has {elements} elements, more than the {maxElements} allowed.");
                }

                try
                {
                    result[e.Name] = new NumPyArray(e.Dataset.ReadFloats(), new TensorShape(e.Shape));
                }
                catch (IOException ex)
                {
                    throw new InvalidDataException($"{path}: dataset '{e.Path}' could not be read: {ex.Message}", ex);
                }
            }

            return result;
        });
    }

    /// <summary>The Conv2DTranspose layers of a <c>.keras</c> file's <c>config.json</c>, as options carrying their names, in the model's order.</summary>
    /// <param name="path">A <c>.keras</c> file.</param>
    /// <returns>The layers' options.</returns>
    /// <exception cref="InvalidDataException">The archive or its config is malformed, or a config has a value the layer does not take.</exception>
    public static IReadOnlyList<Conv2DTransposeOptions> ReadConv2DTransposeLayers(string path)
    {
        return ReaderGuard.Run<IReadOnlyList<Conv2DTransposeOptions>>(path, () =>
        {
            using var file = File.OpenRead(path);
            using var zip = OpenArchive(file, path);
            using var config = Config(zip, path);
            return [.. Conv2DTransposeConfigs(config.RootElement, path).Select(c => KerasLayerConfig.ToOptions(c, path))];
        });
    }

    /// <summary>
    /// Writes one layer's kernel and bias as Keras 3 saves a model of that one layer
    /// (<c>model.save_weights</c>): <c>layers/conv2d_transpose/vars/0</c> and <c>/1</c>, float32.
    /// </summary>
    /// <param name="path">The <c>.weights.h5</c> file to write.</param>
    /// <param name="kernel">The kernel, <c>[kh, kw, filters, in_channels]</c>.</param>
    /// <param name="bias">The bias, or null.</param>
    public static void Write(string path, NumPyArray kernel, NumPyArray? bias) => H5Of(kernel, bias).Write(path);

    /// <summary>Writes one layer's kernel and bias as <see cref="Write(string, NumPyArray, NumPyArray?)"/> does, to a stream.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="kernel">The kernel, <c>[kh, kw, filters, in_channels]</c>.</param>
    /// <param name="bias">The bias, or null.</param>
    public static void Write(Stream stream, NumPyArray kernel, NumPyArray? bias) => H5Of(kernel, bias).Write(stream);

    private static H5File H5Of(NumPyArray kernel, NumPyArray? bias)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        kernel.Validate();
        var vars = new H5Group { ["0"] = new H5Dataset(kernel.Values, fileDims: [.. kernel.Shape.Dimensions.Select(d => (ulong)d)]) };
        if (bias is not null)
        {
            bias.Validate();
            vars["1"] = new H5Dataset(bias.Values, fileDims: [(ulong)bias.Values.Length]);
        }

        var file = new H5File
        {
            ["vars"] = new H5Group(),
            ["layers"] = new H5Group { ["conv2d_transpose"] = new H5Group { ["vars"] = vars } },
        };
        return file;
    }

    private sealed record Entry(string Name, string Path, string Dtype, int[] Shape, Hdf5Dataset Dataset);

    /// <summary>Whether a name is a <c>.keras</c> archive (a zip of config.json and model.weights.h5) rather than an HDF5 file.</summary>
    internal static bool IsArchive(string path) => path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase);

    /// <summary>A <c>.keras</c> zip over a stream the caller disposes (a refused archive leaves nothing open: the stream is the caller's).</summary>
    private static ZipArchive OpenArchive(Stream file, string path)
    {
        try
        {
            return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"{path} is not a .keras file (not a zip archive): {ex.Message}", ex);
        }
    }

    private static JsonDocument Config(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry("config.json") ?? throw new InvalidDataException($"{path} has no config.json.");
        if (entry.Length > 64 << 20)
        {
            throw new InvalidDataException($"{path}:config.json is {entry.Length} bytes, more than 64 MiB.");
        }

        using var stream = entry.Open();
        try
        {
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}:config.json is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>The Conv2DTranspose configs of a (Sequential or Functional) model config, in its layers' order.</summary>
    private static List<JsonElement> Conv2DTransposeConfigs(JsonElement model, string path)
    {
        if (!model.TryGetProperty("config", out var config) || !config.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{path}:config.json has no config.layers array.");
        }

        return layers.EnumerateArray()
            .Where(l => l.TryGetProperty("class_name", out var c) && c.GetString() == "Conv2DTranspose" && l.TryGetProperty("config", out _))
            .Select(l => l.GetProperty("config"))
            .ToList();
    }

    /// <summary>An open Keras weight file and its float datasets with their names.</summary>
    private sealed class KerasFile : IDisposable
    {
        private readonly Stream stream;
        private readonly Hdf5File h5;

        private KerasFile(Stream stream, string path, IReadOnlyList<string>? convNames)
        {
            this.stream = stream;
            try
            {
                h5 = Hdf5File.Open(stream, path, leaveOpen: true);
                Entries = Collect(path, convNames);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        public IReadOnlyList<Entry> Entries { get; }

        /// <summary>Opens a Keras file from a stream the caller owns (seekable, from its start): an HDF5 file, or with <paramref name="archive"/> a .keras zip.</summary>
        public static KerasFile Open(Stream source, string path, bool archive)
        {
            if (!archive)
            {
                return new KerasFile(new NonClosingStream(source), path, null);
            }

            using var zip = OpenArchive(source, path);
            using var config = Config(zip, path);
            var names = Conv2DTransposeConfigs(config.RootElement, path)
                .Select(c => c.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty).ToList();
            var weights = zip.GetEntry("model.weights.h5")
                ?? throw new InvalidDataException($"{path} has no model.weights.h5{(zip.GetEntry("model.weights.npz") is null ? string.Empty : " (its weights are model.weights.npz, which this reader does not take)")}.");
            if (weights.Length > MaxArchivedWeightsLength)
            {
                throw new InvalidDataException($"{path}:model.weights.h5 is {weights.Length} bytes, more than {MaxArchivedWeightsLength}.");
            }

            // HDF5 needs a seekable stream: the entry is copied into memory.
            // The copy stops at the size the archive declares, which was checked above: deflate can expand a small
            // entry a thousandfold, and a hostile header is not trusted to describe its data.
            MemoryStream copy;
            using (var data = weights.Open())
            {
                copy = NonClosingStream.CopyBounded(data, weights.Length, () => new InvalidDataException(
                    $"{path}:model.weights.h5 inflates past the {weights.Length} bytes its header declares."));
            }

            return new KerasFile(copy, $"{path}:model.weights.h5", names);
        }

        public void Dispose()
        {
            h5.Dispose();
            stream.Dispose();
        }

        private List<Entry> Collect(string path, IReadOnlyList<string>? convNames)
        {
            var entries = new List<Entry>();
            var root = h5.Root;
            if (root.Child("layers") is Hdf5Group layers)
            {
                // Keras 3: layers/<class>[_N]/vars/<i>; a Conv2DTranspose group's N-th instance is the N-th such layer of config.json.
                foreach (var (layerName, node) in layers.Children())
                {
                    if (node is not Hdf5Group layer || layer.Child("vars") is not Hdf5Group vars)
                    {
                        continue;
                    }

                    string name = LayerName(layerName, convNames);
                    var variables = vars.Children().Where(c => c.Node is Hdf5Dataset).OrderBy(c => int.TryParse(c.Name, out int i) ? i : int.MaxValue);
                    foreach (var (variable, dataset) in variables)
                    {
                        string role = variable switch { "0" => "kernel", "1" => "bias", _ => $"vars/{variable}" };
                        Add(entries, $"{name}/{role}", $"layers/{layerName}/vars/{variable}", (Hdf5Dataset)dataset, path);
                    }
                }
            }
            else
            {
                // Legacy: every dataset by its path (under model_weights when the file is a whole saved model).
                Walk(root.Child("model_weights") as Hdf5Group ?? root, string.Empty, 0, entries, path);
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                if (!names.Add(entry.Name))
                {
                    throw new InvalidDataException($"{path}: two datasets are named '{entry.Name}'.");
                }
            }

            return entries;
        }

        private static string LayerName(string group, IReadOnlyList<string>? convNames)
        {
            if (convNames is null || !group.StartsWith("conv2d_transpose", StringComparison.Ordinal))
            {
                return group;
            }

            string suffix = group["conv2d_transpose".Length..];
            int index = suffix.Length == 0 ? 0 : suffix.StartsWith('_') && int.TryParse(suffix[1..], out int n) ? n : -1;
            return index >= 0 && index < convNames.Count ? convNames[index] : group;
        }

        private static void Walk(Hdf5Group group, string prefix, int depth, List<Entry> entries, string path)
        {
            if (depth > MaxDepth)
            {
                throw new InvalidDataException($"{path}: groups nest deeper than {MaxDepth} at '{prefix}'.");
            }

            foreach (var (childName, child) in group.Children())
            {
                string name = prefix.Length == 0 ? childName : $"{prefix}/{childName}";
                if (child is Hdf5Group inner)
                {
                    Walk(inner, name, depth + 1, entries, path);
                }
                else if (child is Hdf5Dataset dataset)
                {
                    Add(entries, name, name, dataset, path);
                }
            }
        }

        private static void Add(List<Entry> entries, string name, string datasetPath, Hdf5Dataset dataset, string path)
        {
            if (dataset.FloatSize == 0)
            {
                return; // not a float tensor (optimizer iteration counts and the like)
            }

            var shape = dataset.Dimensions.Select(d => d <= int.MaxValue ? (int)d : throw new InvalidDataException($"{path}: dataset '{datasetPath}' has dimension {d}.")).ToArray();
            entries.Add(new Entry(name, datasetPath, dataset.FloatSize == 8 ? "float64" : "float32", shape, dataset));
        }
    }

}
