using System;

namespace ILGpuDeconv;

/// <summary>
/// A Keras weight initializer (<c>kernel_initializer</c>, <c>bias_initializer</c>): fills a weight
/// tensor on the host before it is uploaded. Fans are computed as Keras computes them; for a
/// Conv2DTranspose kernel of shape <c>[kh, kw, filters, in_channels]</c> that is
/// <c>fan_in = filters * kh * kw</c> and <c>fan_out = in_channels * kh * kw</c>.
/// Create instances through <see cref="Initializer"/>'s static factories.
/// </summary>
public abstract partial class Initializer
{
    private protected Initializer(string name, int? seed)
    {
        Name = name;
        Seed = seed;
    }

    /// <summary>Gets the Keras name, e.g. <c>glorot_uniform</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the seed; with one, every <see cref="Fill"/> gives the same values. Null draws fresh values each time.</summary>
    public int? Seed { get; }

    /// <summary>Computes Keras's fans for a weight shape (its <c>compute_fans</c>).</summary>
    /// <param name="shape">The weight shape.</param>
    /// <returns>The fan-in and fan-out.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    public static (double FanIn, double FanOut) ComputeFans(TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        switch (shape.Rank)
        {
            case 1:
                return (shape[0], shape[0]);
            case 2:
                return (shape[0], shape[1]);
            default:
                double receptiveField = 1;
                for (int axis = 0; axis < shape.Rank - 2; axis++)
                {
                    receptiveField *= shape[axis];
                }

                return (shape[shape.Rank - 2] * receptiveField, shape[shape.Rank - 1] * receptiveField);
        }
    }

    /// <summary>Fills <paramref name="values"/> (row-major, of <paramref name="shape"/>) with initial weights.</summary>
    /// <param name="values">The destination; its length must equal the shape's element count.</param>
    /// <param name="shape">The weight shape, used for the fans.</param>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void Fill(Span<float> values, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (values.Length != shape.ElementCount)
        {
            throw new ArgumentException(
                $"The destination holds {values.Length} values but the shape {shape} has {shape.ElementCount}.",
                nameof(values));
        }

        var random = Seed is int seed ? new Random(seed) : new Random(Random.Shared.Next());
        Generate(values, shape, random);
    }

    /// <summary>Returns the Keras name.</summary>
    /// <returns>The name.</returns>
    public override string ToString() => Name;

    /// <summary>Produces the values.</summary>
    private protected abstract void Generate(Span<float> values, TensorShape shape, Random random);

    /// <summary>A standard normal sample (Box-Muller, in double).</summary>
    private protected static double NextGaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>A normal sample redrawn until it lies within two standard deviations, as Keras's truncated normal.</summary>
    private protected static double NextTruncatedGaussian(Random random)
    {
        while (true)
        {
            double g = NextGaussian(random);
            if (Math.Abs(g) <= 2.0)
            {
                return g;
            }
        }
    }
}
