using System;

namespace ILGpuDeconv;

/// <content>The Keras initializers by name and as factory methods.</content>
public abstract partial class Initializer
{
    /// <summary>Keras <c>zeros</c>.</summary>
    /// <returns>The initializer.</returns>
    public static Initializer Zeros() => new ConstantInitializer("zeros", 0f);

    /// <summary>Keras <c>ones</c>.</summary>
    /// <returns>The initializer.</returns>
    public static Initializer Ones() => new ConstantInitializer("ones", 1f);

    /// <summary>Keras <c>constant(value)</c>.</summary>
    /// <param name="value">The value of every weight.</param>
    /// <returns>The initializer.</returns>
    public static Initializer Constant(float value) => new ConstantInitializer("constant", value);

    /// <summary>Keras <c>random_uniform</c>: uniform in [<paramref name="minValue"/>, <paramref name="maxValue"/>).</summary>
    /// <param name="minValue">Lower bound (Keras default -0.05).</param>
    /// <param name="maxValue">Upper bound (Keras default 0.05).</param>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer RandomUniform(float minValue = -0.05f, float maxValue = 0.05f, int? seed = null) =>
        new RandomUniformInitializer(minValue, maxValue, seed);

    /// <summary>Keras <c>random_normal</c>.</summary>
    /// <param name="mean">Mean (Keras default 0).</param>
    /// <param name="stddev">Standard deviation (Keras default 0.05).</param>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer RandomNormal(float mean = 0f, float stddev = 0.05f, int? seed = null) =>
        new RandomNormalInitializer("random_normal", mean, stddev, truncated: false, seed);

    /// <summary>Keras <c>truncated_normal</c>: normal, redrawn beyond two standard deviations.</summary>
    /// <param name="mean">Mean (Keras default 0).</param>
    /// <param name="stddev">Standard deviation before truncation (Keras default 0.05).</param>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer TruncatedNormal(float mean = 0f, float stddev = 0.05f, int? seed = null) =>
        new RandomNormalInitializer("truncated_normal", mean, stddev, truncated: true, seed);

    /// <summary>Keras <c>variance_scaling</c>.</summary>
    /// <param name="scale">Scale (Keras default 1).</param>
    /// <param name="mode">Which fan divides the scale (Keras default fan_in).</param>
    /// <param name="distribution">Sampling distribution (Keras default truncated_normal).</param>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer VarianceScaling(
        double scale = 1.0,
        FanMode mode = FanMode.FanIn,
        VarianceScalingDistribution distribution = VarianceScalingDistribution.TruncatedNormal,
        int? seed = null) =>
        new VarianceScalingInitializer("variance_scaling", scale, mode, distribution, seed);

    /// <summary>Keras <c>glorot_uniform</c> (the default kernel initializer): uniform with limit <c>sqrt(6 / (fan_in + fan_out))</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer GlorotUniform(int? seed = null) =>
        new VarianceScalingInitializer("glorot_uniform", 1.0, FanMode.FanAverage, VarianceScalingDistribution.Uniform, seed);

    /// <summary>Keras <c>glorot_normal</c>: truncated normal with stddev <c>sqrt(2 / (fan_in + fan_out))</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer GlorotNormal(int? seed = null) =>
        new VarianceScalingInitializer("glorot_normal", 1.0, FanMode.FanAverage, VarianceScalingDistribution.TruncatedNormal, seed);

    /// <summary>Keras <c>he_uniform</c>: uniform with limit <c>sqrt(6 / fan_in)</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer HeUniform(int? seed = null) =>
        new VarianceScalingInitializer("he_uniform", 2.0, FanMode.FanIn, VarianceScalingDistribution.Uniform, seed);

    /// <summary>Keras <c>he_normal</c>: truncated normal with stddev <c>sqrt(2 / fan_in)</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer HeNormal(int? seed = null) =>
        new VarianceScalingInitializer("he_normal", 2.0, FanMode.FanIn, VarianceScalingDistribution.TruncatedNormal, seed);

    /// <summary>Keras <c>lecun_uniform</c>: uniform with limit <c>sqrt(3 / fan_in)</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer LecunUniform(int? seed = null) =>
        new VarianceScalingInitializer("lecun_uniform", 1.0, FanMode.FanIn, VarianceScalingDistribution.Uniform, seed);

    /// <summary>Keras <c>lecun_normal</c>: truncated normal with stddev <c>sqrt(1 / fan_in)</c>.</summary>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer LecunNormal(int? seed = null) =>
        new VarianceScalingInitializer("lecun_normal", 1.0, FanMode.FanIn, VarianceScalingDistribution.TruncatedNormal, seed);

    /// <summary>
    /// Keras <c>orthogonal</c>: the weights, flattened to <c>[prod(shape[:-1]), shape[-1]]</c>, form a
    /// (semi-)orthogonal matrix times <paramref name="gain"/>.
    /// </summary>
    /// <param name="gain">Multiplicative factor (Keras default 1).</param>
    /// <param name="seed">Optional seed.</param>
    /// <returns>The initializer.</returns>
    public static Initializer Orthogonal(double gain = 1.0, int? seed = null) => new OrthogonalInitializer(gain, seed);

    /// <summary>
    /// Looks an initializer up by its Keras name with Keras's default arguments (case-insensitive; underscores optional):
    /// zeros, ones, random_uniform, random_normal, truncated_normal, variance_scaling, glorot_uniform,
    /// glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal.
    /// </summary>
    /// <param name="name">The Keras name.</param>
    /// <param name="seed">Optional seed for the random ones.</param>
    /// <returns>The initializer.</returns>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public static Initializer FromName(string name, int? seed = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return KerasNames.IdentifierKey(name) switch
        {
            "ZEROS" or "ZERO" => Zeros(),
            "ONES" or "ONE" => Ones(),
            "RANDOMUNIFORM" or "UNIFORM" => RandomUniform(seed: seed),
            "RANDOMNORMAL" or "NORMAL" => RandomNormal(seed: seed),
            "TRUNCATEDNORMAL" => TruncatedNormal(seed: seed),
            "VARIANCESCALING" => VarianceScaling(seed: seed),
            "GLOROTUNIFORM" or "XAVIERUNIFORM" => GlorotUniform(seed),
            "GLOROTNORMAL" or "XAVIERNORMAL" => GlorotNormal(seed),
            "HEUNIFORM" => HeUniform(seed),
            "HENORMAL" => HeNormal(seed),
            "LECUNUNIFORM" => LecunUniform(seed),
            "LECUNNORMAL" => LecunNormal(seed),
            "ORTHOGONAL" => Orthogonal(seed: seed),
            _ => throw new ArgumentException($"initializer \"{name}\" is not a Keras initializer this library knows.", nameof(name)),
        };
    }
}
