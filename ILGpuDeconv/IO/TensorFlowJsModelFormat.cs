using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ILGpuDeconv;

/// <summary>
/// TensorFlow.js layers models as TF.js saves them: <c>model.json</c> (the Keras topology and a weights
/// manifest) beside its binary weight shards, whose concatenation holds the weights in the manifest's order.
/// Reads float32 weights and the configs of the Conv2DTranspose layers. Shards must be plain file names in the
/// model's folder.
/// </summary>
public static class TensorFlowJsModelFormat
{
    /// <summary>The largest model.json accepted, in bytes.</summary>
    public const long MaxModelJsonLength = 64 << 20;

    /// <summary>Lists the weights of a model: name (<c>layer/kernel</c>), dtype and shape, in the manifest's order.</summary>
    /// <param name="modelJson">The path of <c>model.json</c>.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="InvalidDataException">The model.json is malformed; the message names the file and field.</exception>
    public static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(string modelJson) =>
        ReaderGuard.Run<IReadOnlyList<(string Name, string Dtype, int[] Shape)>>(modelJson, () => [.. Manifest(modelJson).Select(w => (w.Name, w.Dtype, w.Shape))]);

    /// <summary>Reads weights (only those <paramref name="include"/> accepts; null reads all), each within <paramref name="maxElements"/>.</summary>
    /// <param name="modelJson">The path of <c>model.json</c>.</param>
    /// <param name="include">Which weights to read, by name; null reads all.</param>
    /// <param name="maxElements">The most elements any one weight may have.</param>
    /// <returns>The weights read, by name.</returns>
    /// <exception cref="InvalidDataException">The model is malformed, a shard is missing or too short, or a weight too large.</exception>
    public static IReadOnlyDictionary<string, NumPyArray> Read(string modelJson, Func<string, bool>? include = null, long maxElements = NumPyFormat.DefaultMaxElements)
    {
        return ReaderGuard.Run<IReadOnlyDictionary<string, NumPyArray>>(modelJson, () =>
        {
            var weights = Manifest(modelJson);
            var result = new Dictionary<string, NumPyArray>(StringComparer.Ordinal);
            foreach (var w in weights.Where(w => include is null || include(w.Name)))
            {
                long elements = w.Shape.Aggregate(1L, (a, d) => a * d);
                if (elements > maxElements)
                {
                    throw new InvalidDataException($"{modelJson}: weight '{w.Name}' has {elements} elements, more than the {maxElements} allowed.");
                }

                var bytes = new byte[elements * 4];
                ReadSpan(w.Shards, w.Offset, bytes, modelJson, w.Name);
                var values = new float[elements];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                }

                result[w.Name] = new NumPyArray(values, new TensorShape(w.Shape));
            }

            return result;
        });
    }

    /// <summary>
    /// The Conv2DTranspose layers of the model with their options built from their Keras configs (filters,
    /// kernel_size, strides, padding, data_format, dilation_rate, output_padding, activation, use_bias, name,
    /// trainable), in the model's order.
    /// </summary>
    /// <param name="modelJson">The path of <c>model.json</c>.</param>
    /// <returns>The layers' options; each carries its layer's name.</returns>
    /// <exception cref="InvalidDataException">The topology is malformed or a config has a value the layer does not take.</exception>
    public static IReadOnlyList<Conv2DTransposeOptions> ReadConv2DTransposeLayers(string modelJson)
    {
        return ReaderGuard.Run<IReadOnlyList<Conv2DTransposeOptions>>(modelJson, () =>
        {
            using var document = Parse(modelJson);
            if (!document.RootElement.TryGetProperty("modelTopology", out var topology) || !topology.TryGetProperty("config", out var config))
            {
                throw new InvalidDataException($"{modelJson} has no modelTopology.config.");
            }

            var layers = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("layers", out var l) ? l : config;
            if (layers.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{modelJson}: modelTopology.config.layers is not an array.");
            }

            return [.. layers.EnumerateArray()
                .Where(layer => layer.TryGetProperty("class_name", out var c) && c.GetString() == "Conv2DTranspose")
                .Select(layer => KerasLayerConfig.ToOptions(layer.GetProperty("config"), modelJson))];
        });
    }

    private sealed record WeightEntry(string Name, string Dtype, int[] Shape, long Offset, IReadOnlyList<string> Shards);

    private static JsonDocument Parse(string modelJson)
    {
        var info = new FileInfo(modelJson);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{modelJson} does not exist.", modelJson);
        }

        if (info.Length > MaxModelJsonLength)
        {
            throw new InvalidDataException($"{modelJson} is {info.Length} bytes, more than the {MaxModelJsonLength} a model.json may have here.");
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(modelJson), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{modelJson} is not valid JSON: {ex.Message}", ex);
        }
    }

    private static List<WeightEntry> Manifest(string modelJson)
    {
        using var document = Parse(modelJson);
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelJson))!;
        if (!document.RootElement.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{modelJson} has no weightsManifest array.");
        }

        var entries = new List<WeightEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int g = 0;
        foreach (var group in manifest.EnumerateArray())
        {
            string Where(string field) => $"{modelJson}: weightsManifest[{g}].{field}";
            if (!group.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{Where("paths")} is missing or not an array.");
            }

            var shards = paths.EnumerateArray().Select(p =>
            {
                string name = p.ValueKind == JsonValueKind.String ? p.GetString()! : throw new InvalidDataException($"{Where("paths")} holds {p}, not a file name.");
                if (name.Length == 0 || name != Path.GetFileName(name) || name is "." or "..")
                {
                    throw new InvalidDataException($"{Where("paths")} names '{name}', not a plain file name in the model's folder.");
                }

                return Path.Combine(folder, name);
            }).ToList();

            if (!group.TryGetProperty("weights", out var weights) || weights.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{Where("weights")} is missing or not an array.");
            }

            long offset = 0;
            foreach (var w in weights.EnumerateArray())
            {
                string name = w.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new InvalidDataException($"{Where("weights")} holds a weight without a name.");
                string field(string f) => $"{modelJson}: weight '{name}', field '{f}'";
                string dtype = w.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "float32";
                if (dtype != "float32" || w.TryGetProperty("quantization", out _))
                {
                    throw new InvalidDataException($"{field(w.TryGetProperty("quantization", out _) ? "quantization" : "dtype")}: only unquantized float32 weights are read.");
                }

                if (!w.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidDataException($"{field("shape")} is missing or not an array.");
                }

                var shape = s.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) && x >= 0 ? x : throw new InvalidDataException($"{field("shape")} holds {v}, not a dimension.")).ToArray();
                long elements = shape.Aggregate(1L, (a, x) => x == 0 ? 0 : a > long.MaxValue / 4 / x ? long.MaxValue / 4 : a * x);
                if (!names.Add(name))
                {
                    throw new InvalidDataException($"{modelJson}: the manifest names weight '{name}' twice.");
                }

                entries.Add(new WeightEntry(name, dtype, shape, offset, shards));
                offset += elements * 4;
            }

            g++;
        }

        return entries;
    }

    /// <summary>Reads bytes at an offset of the shards' concatenation.</summary>
    private static void ReadSpan(IReadOnlyList<string> shards, long offset, byte[] target, string modelJson, string weight)
    {
        int filled = 0;
        long position = 0;
        foreach (string shard in shards)
        {
            if (filled == target.Length)
            {
                return;
            }

            if (!File.Exists(shard))
            {
                throw new InvalidDataException($"{modelJson}: weight shard {Path.GetFileName(shard)} is missing.");
            }

            using var stream = File.OpenRead(shard);
            long length = stream.Length;
            long start = offset + filled - position;
            if (start < length)
            {
                stream.Position = start;
                int wanted = (int)Math.Min(target.Length - filled, length - start);
                filled += stream.ReadAtLeast(target.AsSpan(filled, wanted), wanted, throwOnEndOfStream: false);
            }

            position += length;
        }

        if (filled < target.Length)
        {
            throw new InvalidDataException($"{modelJson}: the weight shards end before the data of weight '{weight}' (at byte {offset + filled} of their concatenation).");
        }
    }
}
