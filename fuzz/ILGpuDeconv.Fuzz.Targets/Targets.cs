using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace ILGpuDeconv.Fuzz;

/// <summary>One reader under test: how an input reaches it.</summary>
/// <param name="Name">The target's name: its folder under fuzz/corpus and the fuzz driver's argument.</param>
/// <param name="Extension">The file extension the reader expects.</param>
/// <param name="Read">Reads a file as a user's calls would.</param>
public sealed record Target(string Name, string Extension, Action<string> Read)
{
    /// <summary>Writes the input to a file of the reader's extension in <paramref name="work"/>, then reads it.</summary>
    /// <param name="input">The input.</param>
    /// <param name="work">A folder of the caller's for the input's file.</param>
    public void Run(Stream input, string work)
    {
        ArgumentNullException.ThrowIfNull(input);
        string path = Path.Combine(work, "input" + Extension);
        using (var file = File.Create(path))
        {
            input.CopyTo(file);
        }

        Read(path);
    }
}

/// <summary>Every reader a user's file reaches: listing and loading, each format's own entry points.</summary>
public static class Targets
{
    private static readonly Lazy<DeconvDevice> Device = new(() => DeconvDevice.Create(AcceleratorKind.Cpu));

    /// <summary>The real shard that the tfjs target's model.json names (copied beside the fuzz driver).</summary>
    public static string TensorFlowJsShard { get; set; } = Path.Combine(AppContext.BaseDirectory, "group1-shard1of1.bin");

    /// <summary>The real .keras file whose weights the keras-config target's archive holds beside the input config (copied beside the driver).</summary>
    public static string KerasModel { get; set; } = Path.Combine(AppContext.BaseDirectory, "keras3.keras");

    /// <summary>Gets every target by its name (the folder names under fuzz/corpus and fuzz/regressions).</summary>
    public static IReadOnlyDictionary<string, Target> All { get; } = new Target[]
    {
        new("npz", ".npz", path => Load(path, WeightLayout.Keras)),
        new("npy", ".npy", path =>
        {
            using var file = File.OpenRead(path);
            _ = NumPyFormat.ReadNpy(file, path, 1 << 20);
        }),
        new("safetensors", ".safetensors", path => Load(path, WeightLayout.PyTorch)),
        new("pytorch", ".pt", path => Load(path, WeightLayout.PyTorch)),
        new("keras-weights", ".weights.h5", path => Load(path, WeightLayout.Keras)),
        new("keras", ".keras", path =>
        {
            _ = KerasWeightsFormat.ReadConv2DTransposeLayers(path);
            Load(path, WeightLayout.Keras);
        }),
        new("keras-legacy", ".h5", path => Load(path, WeightLayout.Keras)),
        new("tfjs", ".json", path =>
        {
            // model.json beside the committed shard: the JSON is the input.
            File.Copy(TensorFlowJsShard, Path.Combine(Path.GetDirectoryName(path)!, "group1-shard1of1.bin"), overwrite: true);
            _ = TensorFlowJsModelFormat.ReadConv2DTransposeLayers(path);
            Load(path, WeightLayout.Keras);
        }),
        new("onnx", ".onnx", path =>
        {
            foreach (var node in OnnxFormat.ConvTransposeNodes(path))
            {
                _ = node.ToString();
            }

            Load(path, WeightLayout.PyTorch);
        }),
        new("onnx-tensor", ".pb", path => _ = OnnxFormat.ReadTensor(path, 1 << 20)),

        // Inside an archive, past its CRC checks (which stop nearly every mutation of a zipped entry): the input is the
        // entry, the archive is built around it as torch.save and Keras write theirs.
        new("pickle", ".pkl", path => Load(Archive(path, ".pt", ("archive/data.pkl", null), ("archive/version", "3\n"u8.ToArray()), ("archive/data/0", new byte[4096]), ("archive/data/1", new byte[4096]), ("archive/data/2", new byte[4096])), WeightLayout.PyTorch)),
        new("keras-config", ".json", path =>
        {
            string keras = Archive(path, ".keras", ("config.json", null), ("model.weights.h5", KerasModelWeights()));
            _ = KerasWeightsFormat.ReadConv2DTransposeLayers(keras);
            Load(keras, WeightLayout.Keras);
        }),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private static byte[] KerasModelWeights()
    {
        using var zip = ZipFile.OpenRead(KerasModel);
        using var entry = zip.GetEntry("model.weights.h5")!.Open();
        using var copy = new MemoryStream();
        entry.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>A stored (uncompressed) zip beside <paramref name="input"/>: its entries, the input's bytes where one has none.</summary>
    private static string Archive(string input, string extension, params (string Name, byte[]? Bytes)[] entries)
    {
        string path = Path.ChangeExtension(input, extension);
        File.Delete(path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, bytes) in entries)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(bytes ?? File.ReadAllBytes(input));
            }
        }

        return path;
    }

    /// <summary>What a user's calls do with a file: list it, then load it into the layer its first kernel fits.</summary>
    private static void Load(string path, WeightLayout layout)
    {
        var tensors = WeightFiles.List(path);
        var kernel = tensors.FirstOrDefault(t => t.Shape.Count == 4);
        if (kernel is null || kernel.Shape.Any(d => d < 1 || d > 64))
        {
            return;
        }

        bool pytorch = layout == WeightLayout.PyTorch;
        int filters = pytorch ? kernel.Shape[1] : kernel.Shape[2];
        var options = new Conv2DTransposeOptions(filters, pytorch ? (kernel.Shape[2], kernel.Shape[3]) : (kernel.Shape[0], kernel.Shape[1]))
        {
            UseBias = tensors.Any(t => t.Name.Contains("bias", StringComparison.Ordinal)),
        };
        using var layer = new Conv2DTranspose(Device.Value, options);
        try
        {
            layer.LoadWeights(path, layout);
        }
        catch (InvalidDataException)
        {
        }
    }
}
