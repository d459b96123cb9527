using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <summary>
/// A Keras weight constraint (<c>kernel_constraint</c>, <c>bias_constraint</c>), applied to the weights
/// after each optimizer update. Norms are taken over <see cref="Axes"/> of the weight tensor (Keras's
/// <c>axis</c>; negative values count from the end), with Keras's <c>epsilon</c> of 1e-7.
/// Made by the factories named after Keras's classes; each kind brings its own GPU program.
/// </summary>
public abstract class Constraint
{
    /// <summary>Keras's <c>backend.epsilon()</c>.</summary>
    public const float Epsilon = 1e-7f;

    private readonly int[] axes;

    private protected Constraint(ConstraintKind kind, float minValue, float maxValue, float rate, IEnumerable<int> axes)
    {
        if (!(minValue >= 0f) || !(maxValue >= minValue))
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxValue), $"Need 0 <= min_value <= max_value; got min_value={minValue}, max_value={maxValue}.");
        }

        if (!(rate >= 0f && rate <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "rate must lie in [0, 1].");
        }

        this.axes = axes.ToArray();
        if (this.axes.Length == 0)
        {
            throw new ArgumentException("axis must name at least one axis.", nameof(axes));
        }

        Kind = kind;
        MinValue = minValue;
        MaxValue = maxValue;
        Rate = rate;
    }

    /// <summary>Gets which Keras constraint this is.</summary>
    public ConstraintKind Kind { get; }

    /// <summary>Gets the lower norm bound (MinMaxNorm).</summary>
    public float MinValue { get; }

    /// <summary>Gets the upper norm bound (MaxNorm, MinMaxNorm).</summary>
    public float MaxValue { get; }

    /// <summary>Gets MinMaxNorm's rate (1 enforces the bounds strictly).</summary>
    public float Rate { get; }

    /// <summary>Gets the axes the norm is taken over (Keras <c>axis</c>).</summary>
    public IReadOnlyList<int> Axes => axes;

    /// <summary>Keras <c>MaxNorm(max_value=2, axis=0)</c>: rescales slices whose L2 norm exceeds <paramref name="maxValue"/>.</summary>
    /// <param name="maxValue">The largest norm allowed.</param>
    /// <param name="axes">The axes of the norm (Keras default 0).</param>
    /// <returns>The constraint.</returns>
    public static Constraint MaxNorm(float maxValue = 2f, params int[] axes) =>
        new Norm<MaxNormRule>(ConstraintKind.MaxNorm, 0f, maxValue, 1f, axes is { Length: > 0 } ? axes : [0], new MaxNormRule(maxValue));

    /// <summary>Keras <c>NonNeg()</c>: sets negative weights to zero.</summary>
    /// <returns>The constraint.</returns>
    public static Constraint NonNeg() => new NonNegative();

    /// <summary>Keras <c>UnitNorm(axis=0)</c>: rescales every slice to unit L2 norm.</summary>
    /// <param name="axes">The axes of the norm (Keras default 0).</param>
    /// <returns>The constraint.</returns>
    public static Constraint UnitNorm(params int[] axes) =>
        new Norm<UnitNormRule>(ConstraintKind.UnitNorm, 0f, 0f, 1f, axes is { Length: > 0 } ? axes : [0], default);

    /// <summary>Keras <c>MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)</c>.</summary>
    /// <param name="minValue">The smallest norm.</param>
    /// <param name="maxValue">The largest norm.</param>
    /// <param name="rate">How far to move toward the bounds each time (1: all the way).</param>
    /// <param name="axes">The axes of the norm (Keras default 0).</param>
    /// <returns>The constraint.</returns>
    public static Constraint MinMaxNorm(float minValue = 0f, float maxValue = 1f, float rate = 1f, params int[] axes) =>
        new Norm<MinMaxNormRule>(ConstraintKind.MinMaxNorm, minValue, maxValue, rate, axes is { Length: > 0 } ? axes : [0], new MinMaxNormRule(minValue, maxValue, rate));

    /// <summary>
    /// Looks a constraint up by its Keras identifier (<c>keras.constraints.get</c>), case-insensitively, in
    /// snake_case or CamelCase: <c>max_norm</c>, <c>non_neg</c>, <c>unit_norm</c>, <c>min_max_norm</c>, with Keras's defaults.
    /// </summary>
    /// <param name="name">The Keras identifier.</param>
    /// <returns>The constraint.</returns>
    /// <exception cref="ArgumentException">The name is not a Keras constraint.</exception>
    public static Constraint FromName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return KerasNames.IdentifierKey(name) switch
        {
            "MAXNORM" => MaxNorm(),
            "NONNEG" => NonNeg(),
            "UNITNORM" => UnitNorm(),
            "MINMAXNORM" => MinMaxNorm(),
            _ => throw new ArgumentException($"constraint \"{name}\" is not a Keras constraint (max_norm, non_neg, unit_norm, min_max_norm).", nameof(name)),
        };
    }

    /// <summary>Resolves the axes against a rank (negative axes count from the end) and checks them.</summary>
    /// <param name="rank">The weight's rank.</param>
    /// <param name="argumentName">The argument to name in an error.</param>
    /// <returns>A bit mask of the reduced axes.</returns>
    internal int AxisMask(int rank, string argumentName)
    {
        int mask = 0;
        foreach (int axis in axes)
        {
            int resolved = axis < 0 ? axis + rank : axis;
            if (resolved < 0 || resolved >= rank)
            {
                throw new ArgumentException(
                    $"{argumentName}: axis {axis} does not exist in a weight of rank {rank}.", argumentName);
            }

            mask |= 1 << resolved;
        }

        return mask;
    }

    /// <summary>Launches the constraint on a weight tensor of the given shape, in place.</summary>
    internal abstract void Apply<TMem>(Launcher launcher, AcceleratorStream stream, TMem weights, int[] shape)
        where TMem : struct, ITensorMemory;

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ConstraintKind.NonNeg => "NonNeg()",
        ConstraintKind.UnitNorm => $"UnitNorm(axis=[{string.Join(", ", axes)}])",
        ConstraintKind.MaxNorm => $"MaxNorm(max_value={MaxValue}, axis=[{string.Join(", ", axes)}])",
        _ => $"MinMaxNorm(min_value={MinValue}, max_value={MaxValue}, rate={Rate}, axis=[{string.Join(", ", axes)}])",
    };
}

/// <summary>Keras <c>NonNeg</c>.</summary>
internal sealed class NonNegative() : Constraint(ConstraintKind.NonNeg, 0f, 0f, 1f, [0])
{
    internal override void Apply<TMem>(Launcher launcher, AcceleratorStream stream, TMem weights, int[] shape)
    {
        int length = 1;
        foreach (int d in shape)
        {
            length *= d;
        }

        launcher.Launch(stream, new NonNegProgram<TMem>(length, weights));
    }
}

/// <summary>The norm constraints: slices over <see cref="Constraint.Axes"/> rescaled by <typeparamref name="TRule"/>.</summary>
/// <typeparam name="TRule">The norm a slice should have.</typeparam>
internal sealed class Norm<TRule>(ConstraintKind kind, float minValue, float maxValue, float rate, IEnumerable<int> axes, TRule rule)
    : Constraint(kind, minValue, maxValue, rate, axes)
    where TRule : unmanaged, INormRule
{
    internal override void Apply<TMem>(Launcher launcher, AcceleratorStream stream, TMem weights, int[] shape) =>
        launcher.Launch(stream, new NormProgram<TRule, TMem>(new NormSlices(shape, AxisMask(shape.Length, "constraint"), Epsilon), rule, weights));
}

/// <summary>The Keras constraint types.</summary>
public enum ConstraintKind
{
    /// <summary><c>MaxNorm</c>.</summary>
    MaxNorm,

    /// <summary><c>NonNeg</c>.</summary>
    NonNeg,

    /// <summary><c>UnitNorm</c>.</summary>
    UnitNorm,

    /// <summary><c>MinMaxNorm</c>.</summary>
    MinMaxNorm,
}
