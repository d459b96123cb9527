using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Mutants of real weight files (bit flips, truncations, large integers written in, bytes inserted, deleted or
/// repeated), read by every reader the way a user's call reads them (<see cref="WeightFiles.List"/>, then
/// <see cref="Conv2DTranspose.LoadWeights"/>; ONNX's node reader too): each read either succeeds or is an
/// <see cref="InvalidDataException"/> naming the file, within bounded time and allocation, and the layer is unchanged
/// by a refused load. Deterministic (a fixed seed per format); <c>ILGPUDECONV_MUTANTS=N</c> changes the count.
/// </summary>
public sealed class WeightFileMutationTests
{
    /// <summary>The seed files (under IO/files), their layout, and the kernel shape of the layer that loads them.</summary>
    public static IEnumerable<TestCaseData> Seeds()
    {
        yield return Seed("keras3.weights.h5", WeightLayout.Keras, 3, "conv2d_transpose");
        yield return Seed("keras3.keras", WeightLayout.Keras, 3, "up1");
        yield return Seed("legacy.h5", WeightLayout.Keras, 3, "up1");
        yield return Seed("saved.npz", WeightLayout.Keras, 3, null); // written by SaveWeights from the PyTorch file's weights
        yield return Seed("kernel.npy", WeightLayout.Keras, 3, null); // written by NumPyFormat.WriteNpy, likewise
        yield return Seed("torch_state_dict.pt", WeightLayout.PyTorch, 3, null);
        yield return Seed("torch26_state_dict.pt", WeightLayout.PyTorch, 3, null);
        yield return Seed("torch_checkpoint.pt", WeightLayout.PyTorch, 3, null);
        yield return Seed("torch_weights.safetensors", WeightLayout.PyTorch, 3, null);
        yield return Seed("torch26_weights.safetensors", WeightLayout.PyTorch, 3, null);
        yield return Seed("torch_convtranspose.onnx", WeightLayout.PyTorch, 3, "/0/ConvTranspose");
        yield return Seed("torch26_convtranspose.onnx", WeightLayout.PyTorch, 4, null);
        yield return Seed(Path.Combine("tfjs_model", "model.json"), WeightLayout.Keras, 3, "up1");
        yield return Seed(Path.Combine("tfjs_model", "group1-shard1of1.bin"), WeightLayout.Keras, 3, "up1");
    }

    private static TestCaseData Seed(string file, WeightLayout layout, int channels, string? name) =>
        new TestCaseData(file, layout, channels, name).SetName($"Mutants of {file.Replace(Path.DirectorySeparatorChar, '/')}");

    /// <summary>Whether nothing holds <paramref name="path"/> open: an exclusive open fails while a reader's handle lives.</summary>
    private static bool Closed(string path)
    {
        try
        {
            using var exclusive = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Files => Path.Combine(AppContext.BaseDirectory, "IO", "files");

    private static int Count => int.TryParse(Environment.GetEnvironmentVariable("ILGPUDECONV_MUTANTS"), out int n) && n > 0 ? n : 5000;

    [TestCaseSource(nameof(Seeds))]
    public void Every_mutant_is_read_or_refused_as_invalid_data(string file, WeightLayout layout, int channels, string? name)
    {
        string seedPath = Path.Combine(Files, file);
        string dir = Directory.CreateTempSubdirectory("mutants").FullName;
        try
        {
            if (file is "saved.npz" or "kernel.npy")
            {
                using var source = new Conv2DTranspose(TestAccelerators.Require(AcceleratorKind.Cpu), new Conv2DTransposeOptions(4, (3, 2)) { DataFormat = DataFormat.ChannelsFirst });
                source.LoadWeights(Path.Combine(Files, "torch_state_dict.pt"), WeightLayout.PyTorch);
                seedPath = Path.Combine(Path.GetTempPath(), $"saved-{Guid.NewGuid():N}{Path.GetExtension(file)}");
                if (file == "saved.npz")
                {
                    source.SaveWeights(seedPath);
                }
                else
                {
                    using var npy = File.Create(seedPath);
                    NumPyFormat.WriteNpy(npy, source.GetWeights().Kernel, new TensorShape(3, 2, 4, 3));
                }
            }

            // TF.js: the whole model folder is copied and one of its files mutated; elsewhere the file alone.
            bool tfjs = file.StartsWith("tfjs_model", StringComparison.Ordinal);
            string root = tfjs ? Path.Combine(Files, "tfjs_model") : Files;
            foreach (string f in tfjs ? Directory.GetFiles(root) : [seedPath])
            {
                File.Copy(f, Path.Combine(dir, file is "saved.npz" or "kernel.npy" ? file : Path.GetFileName(f)));
            }

            string target = Path.Combine(dir, Path.GetFileName(file));
            string read = tfjs ? Path.Combine(dir, "model.json") : target;
            var original = File.ReadAllBytes(seedPath);
            var random = new Random(file.Aggregate(17, (h, ch) => (h * 31) + ch));
            var device = TestAccelerators.Require(AcceleratorKind.Cpu);
            var options = LayerOptions(read, name);
            using var layer = new Conv2DTranspose(device, options);
            layer.LoadWeights(read, layout); // the seed itself loads
            var before = layer.GetWeights();

            // Time bounded by the file's size, allocation by the file and the weights asked for.
            long timeLimit = 5 * Stopwatch.Frequency, byteLimit = (64L << 20) + (200L * original.Length);
            var escapes = new Dictionary<string, (int Count, string Example)>(StringComparer.Ordinal);
            int accepted = 0, refused = 0;
            long worstTicks = 0, worstBytes = 0;
            for (int i = 0; i < Count; i++)
            {
                var mutant = Mutate(original, random);
                File.WriteAllBytes(target, mutant);
                var clock = Stopwatch.StartNew();
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                string? problem = null;
                try
                {
                    _ = WeightFiles.List(read);
                    if (read.EndsWith(".onnx", StringComparison.Ordinal))
                    {
                        foreach (var node in OnnxFormat.ConvTransposeNodes(read))
                        {
                            _ = node.ToString();
                        }
                    }

                    layer.LoadWeights(read, layout);
                    accepted++;
                    layer.SetWeights(before.Kernel, before.Bias ?? ReadOnlySpan<float>.Empty); // back to the seed's weights
                }
                catch (InvalidDataException e) when (e.Message.Contains(dir, StringComparison.Ordinal))
                {
                    refused++;
                    var now = layer.GetWeights();
                    if (!now.Kernel.SequenceEqual(before.Kernel))
                    {
                        problem = "a refused load changed the layer's kernel";
                    }
                }
                catch (Exception e) when (e is not AssertionException)
                {
                    // Anything else escaped the contract: recorded, and the test fails at the end with every kind seen.
                    problem = $"{e.GetType().FullName}: {e.Message.Split('\n')[0]}";
                }

                long ticks = clock.ElapsedTicks, bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                worstTicks = Math.Max(worstTicks, ticks);
                worstBytes = Math.Max(worstBytes, bytes);
                if (problem is null && (ticks > timeLimit || bytes > byteLimit))
                {
                    problem = ticks > timeLimit ? "slow: over 5 s" : $"allocated: {bytes >> 20} MiB";
                }

                if (problem is null && !Closed(target))
                {
                    // A reader that leaves the file open locks it until a finalizer runs (AFL found one in OpenArchive).
                    problem = "left the file open";
                }

                if (problem is not null)
                {
                    // Kept for tools/fuzz/run.sh --replay and a regression file: the mutant that broke the contract.
                    string kept = Path.Combine(TestContext.CurrentContext.WorkDirectory, "mutants", $"{Path.GetFileName(file)}-{i}{Path.GetExtension(file)}");
                    Directory.CreateDirectory(Path.GetDirectoryName(kept)!);
                    File.WriteAllBytes(kept, mutant);
                    string key = problem.Split(':')[0];
                    escapes[key] = (escapes.TryGetValue(key, out var seen) ? seen.Count + 1 : 1, seen.Example ?? $"mutant {i}: {problem} (kept as {kept})");
                }
            }

            double worstMs = worstTicks * 1000.0 / Stopwatch.Frequency;
            TestContext.Out.WriteLine($"{file}: {Count} mutants, {accepted} read, {refused} refused as invalid data, {escapes.Values.Sum(e => e.Count)} outside the contract; slowest {worstMs:F1} ms, most allocated {worstBytes / 1024} KiB (file {original.Length} bytes)");
            foreach (var (key, (count, example)) in escapes)
            {
                TestContext.Out.WriteLine($"  {count} x {example}");
            }

            Assert.That(escapes, Is.Empty, "every failure is an InvalidDataException naming the file, leaves the layer unchanged, and takes bounded time and memory");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            if (file is "saved.npz" or "kernel.npy")
            {
                File.Delete(seedPath);
            }
        }
    }

    /// <summary>One mutation (sometimes two) of the seed's bytes.</summary>
    internal static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        int rounds = random.Next(3) == 0 ? 2 : 1;
        for (int r = 0; r < rounds && bytes.Count > 0; r++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0: // flip 1 to 8 bits
                    for (int k = random.Next(1, 9); k > 0; k--)
                    {
                        int p = random.Next(bytes.Count);
                        bytes[p] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1: // truncate
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2: // an interesting integer, little-endian, 1 to 8 bytes
                    long[] values = [0, -1, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue, 1L << 32, 1L << 40];
                    long v = values[random.Next(values.Length)];
                    int width = new[] { 1, 2, 4, 8 }[random.Next(4)];
                    for (int k = 0; k < width && at + k < bytes.Count; k++)
                    {
                        bytes[at + k] = (byte)(v >> (8 * k));
                    }

                    break;
                case 3: // insert random bytes
                    var insert = new byte[random.Next(1, 17)];
                    random.NextBytes(insert);
                    bytes.InsertRange(at, insert);
                    break;
                case 4: // delete a run
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 33), bytes.Count - at));
                    break;
                case 5: // repeat a run elsewhere
                    int length = Math.Min(random.Next(1, 65), bytes.Count - at);
                    var run = bytes.GetRange(at, length);
                    bytes.InsertRange(random.Next(bytes.Count), run);
                    break;
                default: // random bytes over a run
                    for (int k = random.Next(1, 9); k > 0 && at < bytes.Count; k--, at++)
                    {
                        bytes[at] = (byte)random.Next(256);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>The options of the layer a seed's weights are for (the seeds' own kernels, as the IO tests use them).</summary>
    private static Conv2DTransposeOptions LayerOptions(string path, string? name)
    {
        if (path.EndsWith(".onnx", StringComparison.Ordinal))
        {
            var node = OnnxFormat.ConvTransposeNodes(path).Single();
            return node.ToOptions(new TensorShape(2, (int)node.WeightShape![0], 5, 4));
        }

        if (path.EndsWith(".npy", StringComparison.Ordinal))
        {
            var shape = WeightFiles.List(path).Single().Shape; // Keras [kh, kw, filters, in]
            return new Conv2DTransposeOptions(shape[2], (shape[0], shape[1]));
        }

        if (path.EndsWith(".json", StringComparison.Ordinal))
        {
            return TensorFlowJsModelFormat.ReadConv2DTransposeLayers(path)[0];
        }

        if (path.EndsWith(".keras", StringComparison.Ordinal))
        {
            return KerasWeightsFormat.ReadConv2DTransposeLayers(path)[0];
        }

        var kernels = WeightFiles.List(path).Where(t => t.Name.EndsWith("kernel", StringComparison.Ordinal) || t.Name.EndsWith("kernel:0", StringComparison.Ordinal) || t.Name.EndsWith("weight", StringComparison.Ordinal) || t.Name == "arr_0").ToList();
        var kernel = kernels.FirstOrDefault(t => name is not null && t.Name.Contains(name, StringComparison.Ordinal)) ?? kernels[0];
        bool pytorch = kernel.Name.EndsWith("weight", StringComparison.Ordinal);
        int filters = pytorch ? kernel.Shape[1] : kernel.Shape[2];
        var size = pytorch ? new Size2D(kernel.Shape[2], kernel.Shape[3]) : new Size2D(kernel.Shape[0], kernel.Shape[1]);
        bool bias = WeightFiles.List(path).Any(t => (t.Name.Contains("bias", StringComparison.Ordinal) && (name is null || t.Name.Contains(name, StringComparison.Ordinal))) || t.Name == "arr_1");
        return new Conv2DTransposeOptions(filters, size) { UseBias = bias, Name = name, DataFormat = pytorch ? DataFormat.ChannelsFirst : DataFormat.ChannelsLast };
    }
}
