using System;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Initializers;

/// <summary>Initializer statistics (mean, variance, bounds) against Keras's definitions, with Keras's fans for a Conv2DTranspose kernel.</summary>
public sealed class InitializerTests
{
    // A Conv2DTranspose kernel [kh, kw, filters, in]: Keras's fan_in = filters*kh*kw = 96, fan_out = in*kh*kw = 144.
    private static readonly TensorShape Kernel = new(4, 4, 6, 9);
    private const double FanIn = 96, FanOut = 144;

    [Test]
    public void Fans_are_Keras_fans() =>
        Assert.That(Initializer.ComputeFans(Kernel), Is.EqualTo((FanIn, FanOut)));

    // initializer, mean, variance, and the interval every value lies in (infinite for unbounded distributions).
    public static TestCaseData[] Distributions =>
    [
        Case(s => Initializer.GlorotUniform(s), 1, 0, 2 / (FanIn + FanOut), Symmetric(Math.Sqrt(6 / (FanIn + FanOut)))),
        Case(s => Initializer.GlorotNormal(s), 2, 0, 2 / (FanIn + FanOut), Symmetric(2 * Math.Sqrt(2 / (FanIn + FanOut)) / 0.87962566103423978)),
        Case(s => Initializer.HeUniform(s), 3, 0, 2 / FanIn, Symmetric(Math.Sqrt(6 / FanIn))),
        Case(s => Initializer.HeNormal(s), 4, 0, 2 / FanIn, Symmetric(2 * Math.Sqrt(2 / FanIn) / 0.87962566103423978)),
        Case(s => Initializer.LecunUniform(s), 5, 0, 1 / FanIn, Symmetric(Math.Sqrt(3 / FanIn))),
        Case(s => Initializer.LecunNormal(s), 6, 0, 1 / FanIn, Symmetric(2 * Math.Sqrt(1 / FanIn) / 0.87962566103423978)),
        Case(s => Initializer.VarianceScaling(2.0, FanMode.FanOut, VarianceScalingDistribution.UntruncatedNormal, s), 7, 0, 2 / FanOut, Symmetric(double.PositiveInfinity)),
        Case(s => Initializer.VarianceScaling(0.5, FanMode.FanAverage, VarianceScalingDistribution.Uniform, s), 12, 0, 0.5 / ((FanIn + FanOut) / 2), Symmetric(Math.Sqrt(3 * 0.5 / ((FanIn + FanOut) / 2)))),
        Case(s => Initializer.VarianceScaling(3.0, FanMode.FanIn, VarianceScalingDistribution.TruncatedNormal, s), 13, 0, 3 / FanIn, Symmetric(2 * Math.Sqrt(3 / FanIn) / 0.87962566103423978)),
        Case(s => Initializer.RandomUniform(-0.2f, 0.6f, s), 8, 0.2, 0.8 * 0.8 / 12, (-0.2, 0.6)),
        Case(s => Initializer.RandomNormal(0.5f, 0.1f, s), 9, 0.5, 0.01, Symmetric(double.PositiveInfinity)),
        // A normal truncated at two standard deviations keeps 0.87962566^2 = 0.77374128 of the variance.
        Case(s => Initializer.TruncatedNormal(0f, 0.3f, s), 10, 0, 0.09 * 0.77374128, Symmetric(0.6)),
        Case(_ => Initializer.Zeros(), null, 0, 0, (0, 0)),
        Case(_ => Initializer.Ones(), null, 1, 0, (1, 1)),
        Case(_ => Initializer.Constant(-2.5f), null, -2.5, 0, (-2.5, -2.5)),
    ];

    private static (double, double) Symmetric(double bound) => (-bound, bound);

    /// <summary>An initializer made with a seed (or none), its expected mean, variance and bounds.</summary>
    private static TestCaseData Case(Func<int, Initializer> make, int? seed, double mean, double variance, (double Low, double High) bounds)
    {
        var initializer = make(seed ?? 0);
        return new TestCaseData(make, seed, mean, variance, bounds.Low, bounds.High).SetName($"{initializer.Name} (seed {seed})");
    }

    [TestCaseSource(nameof(Distributions))]
    public void Statistics_match_Keras(Func<int, Initializer> make, int? seed, double mean, double variance, double low, double high)
    {
        // 64 kernels' worth of samples (differently seeded, with the same arguments), each with the fans above.
        var values = new float[Kernel.ElementCount * 64];
        for (int block = 0; block < 64; block++)
        {
            var part = new float[Kernel.ElementCount];
            make((seed ?? 0) + block).Fill(part, Kernel);
            part.CopyTo(values, block * part.Length);
        }

        double sampleMean = values.Average(v => (double)v);
        double sampleVariance = values.Sum(v => ((double)v - sampleMean) * ((double)v - sampleMean)) / values.Length;
        double standardError = Math.Sqrt(Math.Max(variance, 1e-12) / values.Length);
        Assert.Multiple(() =>
        {
            Assert.That(sampleMean, Is.EqualTo(mean).Within((6 * standardError) + 1e-7), "mean");
            Assert.That(sampleVariance, Is.EqualTo(variance).Within((0.03 * variance) + 1e-9), "variance");
            Assert.That(values.Min(), Is.GreaterThanOrEqualTo(low - 1e-6), "lower bound");
            Assert.That(values.Max(), Is.LessThanOrEqualTo(high + 1e-6), "upper bound");
        });
    }

    [TestCase(6, 10)]
    [TestCase(10, 6)]
    public void Orthogonal_gives_orthonormal_rows_or_columns(int rows, int cols)
    {
        var values = new float[rows * cols];
        Initializer.Orthogonal(gain: 2.0, seed: 11).Fill(values, new TensorShape(rows, cols));
        bool tall = rows >= cols;
        int count = tall ? cols : rows, length = tall ? rows : cols;
        for (int a = 0; a < count; a++)
        {
            for (int b = 0; b < count; b++)
            {
                double dot = 0;
                for (int k = 0; k < length; k++)
                {
                    dot += tall ? (double)values[(k * cols) + a] * values[(k * cols) + b] : (double)values[(a * cols) + k] * values[(b * cols) + k];
                }

                Assert.That(dot, Is.EqualTo(a == b ? 4.0 : 0.0).Within(1e-5), $"({a}, {b})");
            }
        }
    }

    [Test]
    public void A_seed_makes_initialization_repeatable()
    {
        var first = new float[100];
        var second = new float[100];
        Initializer.HeNormal(seed: 5).Fill(first, new TensorShape(10, 10));
        Initializer.HeNormal(seed: 5).Fill(second, new TensorShape(10, 10));
        Assert.That(second, Is.EqualTo(first));
    }

    [TestCase("glorot_uniform")]
    [TestCase("He_Normal")]
    [TestCase("truncatedNormal")]
    [TestCase("orthogonal")]
    public void Initializers_are_found_by_Keras_name(string name) =>
        Assert.That(Initializer.FromName(name).Name.Replace("_", string.Empty, StringComparison.Ordinal), Is.EqualTo(name.Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant()));

    [Test]
    public void The_layer_initialises_kernel_and_bias_with_its_initializers()
    {
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(6, 4)
        {
            KernelInitializer = Initializer.HeUniform(seed: 3),
            BiasInitializer = Initializer.Constant(0.25f),
        };
        using var layer = new Conv2DTranspose(device, options);
        layer.Build(9);
        var (kernel, bias) = layer.GetWeights();
        var expected = new float[Kernel.ElementCount];
        Initializer.HeUniform(seed: 3).Fill(expected, Kernel);
        Assert.Multiple(() =>
        {
            Assert.That(kernel, Is.EqualTo(expected));
            Assert.That(bias, Is.All.EqualTo(0.25f));
        });
    }
}
