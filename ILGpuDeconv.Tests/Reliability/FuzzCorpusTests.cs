using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ILGpuDeconv.Fuzz;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Replays what AFL++ found (tools/fuzz/run.sh): the committed corpus of each reader, the inputs that reached new code,
/// and the regressions, the inputs that once broke the contract. Each goes through the fuzz target itself
/// (fuzz/ILGpuDeconv.Fuzz.Targets/Targets.cs) and must be read or refused with an <see cref="InvalidDataException"/> that
/// names the file, allocating no more than the file and the weights asked for.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static string Root => Path.Combine(AppContext.BaseDirectory, "fuzz");

    /// <summary>One case per reader and folder (corpus, regressions) that holds inputs.</summary>
    public static IEnumerable<TestCaseData> Folders()
    {
        foreach (string kind in new[] { "corpus", "regressions" })
        {
            string dir = Path.Combine(Root, kind);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (string reader in Directory.GetDirectories(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)!)
            {
                yield return new TestCaseData(kind, reader).SetName($"Fuzz {kind} of {reader}");
            }
        }
    }

    [Test]
    public void Every_reader_has_a_corpus()
    {
        var readers = Directory.GetDirectories(Path.Combine(Root, "corpus")).Select(Path.GetFileName).ToHashSet();
        Assert.That(readers, Is.EquivalentTo(Targets.All.Keys), "fuzz/corpus holds one folder per fuzz target");
    }

    [TestCaseSource(nameof(Folders))]
    public void Every_input_is_read_or_refused_as_invalid_data(string kind, string reader)
    {
        Targets.TensorFlowJsShard = Path.Combine(AppContext.BaseDirectory, "IO", "files", "tfjs_model", "group1-shard1of1.bin");
        Targets.KerasModel = Path.Combine(AppContext.BaseDirectory, "IO", "files", "keras3.keras");
        var target = Targets.All[reader];
        string work = Directory.CreateTempSubdirectory("fuzz-replay").FullName;
        var files = Directory.GetFiles(Path.Combine(Root, kind, reader)).Order(StringComparer.Ordinal).ToArray();
        var escapes = new List<string>();
        int read = 0, refused = 0;
        try
        {
            foreach (string file in files)
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    using var input = File.OpenRead(file);
                    target.Run(input, work);
                    read++;
                }
                catch (InvalidDataException e) when (e.Message.Contains(work, StringComparison.Ordinal))
                {
                    refused++;
                }
                catch (Exception e) when (e is not AssertionException)
                {
                    escapes.Add($"{Path.GetFileName(file)}: {e.GetType().FullName}: {e.Message.Split('\n')[0]}");
                }

                // As the mutation tests bound it: the file and the weights asked for (layers of at most 64 per side).
                long bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                if (bytes > (64L << 20) + (200L * new FileInfo(file).Length))
                {
                    escapes.Add($"{Path.GetFileName(file)}: allocated {bytes >> 20} MiB");
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        TestContext.Out.WriteLine($"{kind}/{reader}: {files.Length} inputs, {read} read, {refused} refused, {escapes.Count} outside the contract");
        Assert.Multiple(() =>
        {
            Assert.That(files, Is.Not.Empty);
            Assert.That(escapes, Is.Empty, "every failure is an InvalidDataException naming the file");
        });
    }
}
