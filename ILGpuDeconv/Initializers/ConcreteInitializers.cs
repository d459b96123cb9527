using System;

namespace ILGpuDeconv;

/// <summary>Keras <c>constant</c>, <c>zeros</c>, <c>ones</c>.</summary>
internal sealed class ConstantInitializer : Initializer
{
    internal ConstantInitializer(string name, float value)
        : base(name, null) => Value = value;

    /// <summary>Gets the value of every weight.</summary>
    public float Value { get; }

    private protected override void Generate(Span<float> values, TensorShape shape, Random random) => values.Fill(Value);
}

/// <summary>Keras <c>random_uniform</c>.</summary>
internal sealed class RandomUniformInitializer : Initializer
{
    internal RandomUniformInitializer(float minValue, float maxValue, int? seed)
        : base("random_uniform", seed)
    {
        if (!(minValue <= maxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(minValue), $"minval ({minValue}) must not exceed maxval ({maxValue}).");
        }

        MinValue = minValue;
        MaxValue = maxValue;
    }

    /// <summary>Gets the lower bound (Keras <c>minval</c>).</summary>
    public float MinValue { get; }

    /// <summary>Gets the upper bound (Keras <c>maxval</c>).</summary>
    public float MaxValue { get; }

    private protected override void Generate(Span<float> values, TensorShape shape, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(MinValue + ((MaxValue - (double)MinValue) * random.NextDouble()));
        }
    }
}

/// <summary>Keras <c>random_normal</c> and <c>truncated_normal</c>.</summary>
internal sealed class RandomNormalInitializer : Initializer
{
    internal RandomNormalInitializer(string name, float mean, float stddev, bool truncated, int? seed)
        : base(name, seed)
    {
        if (!(stddev >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(stddev), stddev, "stddev must be non-negative.");
        }

        Mean = mean;
        Stddev = stddev;
        Truncated = truncated;
    }

    /// <summary>Gets the mean.</summary>
    public float Mean { get; }

    /// <summary>Gets the standard deviation (before truncation).</summary>
    public float Stddev { get; }

    /// <summary>Gets a value indicating whether samples beyond two standard deviations are redrawn.</summary>
    public bool Truncated { get; }

    private protected override void Generate(Span<float> values, TensorShape shape, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double g = Truncated ? NextTruncatedGaussian(random) : NextGaussian(random);
            values[i] = (float)(Mean + (Stddev * g));
        }
    }
}

/// <summary>Keras <c>variance_scaling</c> and the Glorot, He and LeCun initializers built on it.</summary>
internal sealed class VarianceScalingInitializer : Initializer
{
    /// <summary>The stddev of a standard normal truncated to [-2, 2], by which Keras divides.</summary>
    private const double TruncatedNormalStddev = 0.87962566103423978;

    internal VarianceScalingInitializer(string name, double scale, FanMode mode, VarianceScalingDistribution distribution, int? seed)
        : base(name, seed)
    {
        if (!(scale > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be positive.");
        }

        Scale = scale;
        Mode = mode;
        Distribution = distribution;
    }

    /// <summary>Gets the scale.</summary>
    public double Scale { get; }

    /// <summary>Gets which fan divides the scale.</summary>
    public FanMode Mode { get; }

    /// <summary>Gets the sampling distribution.</summary>
    public VarianceScalingDistribution Distribution { get; }

    /// <summary>Gets the variance target <c>scale / n</c> for a shape, n being the chosen fan (at least 1).</summary>
    /// <param name="shape">The weight shape.</param>
    /// <returns>The variance Keras aims for.</returns>
    public double TargetVariance(TensorShape shape)
    {
        var (fanIn, fanOut) = ComputeFans(shape);
        double n = Mode switch
        {
            FanMode.FanIn => fanIn,
            FanMode.FanOut => fanOut,
            _ => (fanIn + fanOut) / 2.0,
        };
        return Scale / Math.Max(1.0, n);
    }

    private protected override void Generate(Span<float> values, TensorShape shape, Random random)
    {
        double variance = TargetVariance(shape);
        switch (Distribution)
        {
            case VarianceScalingDistribution.Uniform:
                double limit = Math.Sqrt(3.0 * variance);
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(limit * ((2.0 * random.NextDouble()) - 1.0));
                }

                break;
            case VarianceScalingDistribution.TruncatedNormal:
                double truncatedStddev = Math.Sqrt(variance) / TruncatedNormalStddev;
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(truncatedStddev * NextTruncatedGaussian(random));
                }

                break;
            default:
                double stddev = Math.Sqrt(variance);
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(stddev * NextGaussian(random));
                }

                break;
        }
    }
}

/// <summary>Keras <c>orthogonal</c>.</summary>
internal sealed class OrthogonalInitializer : Initializer
{
    internal OrthogonalInitializer(double gain, int? seed)
        : base("orthogonal", seed) => Gain = gain;

    /// <summary>Gets the multiplicative factor.</summary>
    public double Gain { get; }

    private protected override void Generate(Span<float> values, TensorShape shape, Random random)
    {
        // Keras: flatten to [rows, cols] = [prod(shape[:-1]), shape[-1]], QR-decompose a normal
        // matrix of the taller orientation, fix the signs by diag(R), transpose back if wide.
        int cols = shape[shape.Rank - 1];
        int rows = (int)(shape.ElementCount / cols);
        int tall = Math.Max(rows, cols);
        int narrow = Math.Min(rows, cols);
        var q = new double[tall * narrow]; // row-major [tall, narrow]
        for (int i = 0; i < tall; i++)
        {
            for (int j = 0; j < narrow; j++)
            {
                q[(i * narrow) + j] = NextGaussian(random);
            }
        }

        // Modified Gram-Schmidt: columns of q become orthonormal; r_jj > 0 by construction,
        // which is the sign convention Keras enforces with sign(diag(R)).
        for (int j = 0; j < narrow; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < tall; i++)
                {
                    dot += q[(i * narrow) + k] * q[(i * narrow) + j];
                }

                for (int i = 0; i < tall; i++)
                {
                    q[(i * narrow) + j] -= dot * q[(i * narrow) + k];
                }
            }

            double norm = 0;
            for (int i = 0; i < tall; i++)
            {
                norm += q[(i * narrow) + j] * q[(i * narrow) + j];
            }

            norm = Math.Sqrt(norm);
            for (int i = 0; i < tall; i++)
            {
                q[(i * narrow) + j] /= norm;
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double v = rows >= cols ? q[(r * narrow) + c] : q[(c * narrow) + r];
                values[(r * cols) + c] = (float)(Gain * v);
            }
        }
    }
}
