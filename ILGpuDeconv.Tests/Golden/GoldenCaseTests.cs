using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ILGpuDeconv.Conformance;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Golden;

/// <summary>
/// Every TensorFlow.js golden case (forward output, input, kernel and bias gradients) on every
/// accelerator, with the tolerance rule of <c>verify</c>.
/// </summary>
public sealed class GoldenCaseTests
{
    public static IEnumerable<TestCaseData> Cases() => CasesFor("Golden");

    /// <summary>Every golden case (that <paramref name="where"/> accepts) on every accelerator, as (kind, file name, id), named <c>PREFIX(kind, file#id)</c>.</summary>
    internal static IEnumerable<TestCaseData> CasesFor(string prefix, Func<string, ConformanceCase, bool>? where = null)
    {
        foreach (var kind in TestAccelerators.Tested)
        {
            foreach (string file in CaseFiles())
            {
                foreach (var c in ConformanceCase.Load(file).Where(c => where is null || where(Path.GetFileName(file), c)))
                {
                    yield return new TestCaseData(kind, Path.GetFileName(file), c.Id)
                        .SetName($"{prefix}({kind}, {Path.GetFileNameWithoutExtension(file)}#{c.Id})");
                }
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Case_matches_TensorFlow(AcceleratorKind kind, string file, int id)
    {
        var device = TestAccelerators.Require(kind);
        var c = Load(file).Single(x => x.Id == id);
        var result = ConformanceRunner.Run(device, c, forwardOnly: false);
        Assert.That(result.Passed, Is.True, () => c.Describe() + Environment.NewLine + string.Join(Environment.NewLine, result.Checks));
        Assert.That(result.Checks.Select(k => k.Tensor), Does.Contain("grad_kernel"), "gradients were checked");
    }

    [Test]
    public void The_golden_files_cover_paddings_formats_strides_kernels_and_activations()
    {
        var all = CaseFiles().SelectMany(ConformanceCase.Load).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all, Has.Count.EqualTo(Corpus.Values.Sum()));
            Assert.That(all.Select(c => c.Options.Padding).Distinct().Count(), Is.EqualTo(2), "valid and same");
            Assert.That(all.Select(c => c.Options.DataFormat).Distinct().Count(), Is.EqualTo(2), "both data formats");
            foreach (var strides in new Size2D[] { 1, 2, (3, 2), (1, 3) })
            {
                Assert.That(all.Any(c => c.Options.Strides == strides), $"strides {strides}");
            }

            Assert.That(all.Any(c => c.Options.Strides.Height > c.Options.KernelSize.Height), "stride larger than kernel");
            foreach (int k in new[] { 1, 2, 3, 4, 5 })
            {
                Assert.That(all.Any(c => c.Options.KernelSize.Height == k || c.Options.KernelSize.Width == k), $"kernel size {k}");
            }

            Assert.That(all.Any(c => c.Options.KernelSize.Height != c.Options.KernelSize.Width), "non-square kernels");
            Assert.That(all.Any(c => c.InputShape[0] > 1), "batch > 1");
            Assert.That(all.Any(c => !c.Options.UseBias) && all.Any(c => c.Options.UseBias), "with and without bias");
            Assert.That(all.Select(c => c.ActivationName).Distinct().Order(StringComparer.Ordinal), Is.EqualTo(Activations), "every activation the generator writes");
            Assert.That(all.Any(c => c.Options.DilationRate != new Size2D(1)), "dilation");
            Assert.That(all.Any(c => c.Options.OutputPadding is not null), "output_padding");
            Assert.That(all.All(c => c.HasGradients), "every case holds gradients");
        });
    }

    /// <summary>The corpus as the generator wrote it: a deleted, renamed or truncated file fails here.</summary>
    private static readonly Dictionary<string, int> Corpus = new(StringComparer.Ordinal)
    {
        ["axis_activations.json"] = 12,
        ["dilation_output_padding.json"] = 64,
        ["formats_activations.json"] = 42,
        ["forward_basic.json"] = 32,
        ["long_reductions.json"] = 2,
        ["nonfinite.json"] = 7,
        ["pads.json"] = 10,
        ["pytorch_semantics.json"] = 17,
        ["strides_kernels.json"] = 48,
    };

    private static readonly string[] Activations =
    [
        "elu", "exponential", "gelu", "gelu_new", "hard_sigmoid", "leaky_relu", "linear", "log_softmax", "mish",
        "relu", "relu6", "selu", "sigmoid", "softmax", "softplus", "softsign", "swish", "tanh",
    ];

    [Test]
    public void The_corpus_holds_every_file_with_its_case_count() =>
        Assert.That(
            CaseFiles().ToDictionary(f => Path.GetFileName(f), f => ConformanceCase.Load(f).Count, StringComparer.Ordinal),
            Is.EquivalentTo(Corpus));

    internal static IEnumerable<string> CaseFiles() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Golden", "cases"), "*.json").Order(StringComparer.Ordinal);

    private static IReadOnlyList<ConformanceCase> Load(string file) =>
        Cache.GetOrAdd(file, f => ConformanceCase.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "cases", f)));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<ConformanceCase>> Cache = new();
}
