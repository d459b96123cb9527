using System;

namespace ILGpuDeconv;

/// <summary>
/// A Keras weight or activity regularizer (<c>kernel_regularizer</c>, <c>bias_regularizer</c>,
/// <c>activity_regularizer</c>): the penalty <c>l1 * sum(|w|) + l2 * sum(w^2)</c>, whose gradient
/// <c>l1 * sign(w) + 2 * l2 * w</c> the backward pass adds.
/// </summary>
public sealed class Regularizer
{
    private Regularizer(string name, float l1, float l2)
    {
        if (!(l1 >= 0f) || !(l2 >= 0f) || float.IsInfinity(l1) || float.IsInfinity(l2))
        {
            throw new ArgumentOutOfRangeException(
                l1 >= 0f ? nameof(l2) : nameof(l1), $"l1 and l2 must be finite and non-negative; got l1={l1}, l2={l2}.");
        }

        Name = name;
        L1 = l1;
        L2 = l2;
    }

    /// <summary>Gets the Keras name: <c>l1</c>, <c>l2</c> or <c>l1_l2</c>.</summary>
    public string Name { get; }

    /// <summary>Gets the L1 factor.</summary>
    public float L1 { get; }

    /// <summary>Gets the L2 factor.</summary>
    public float L2 { get; }

    /// <summary>Keras <c>L1(l1=0.01)</c>.</summary>
    /// <param name="l1">The L1 factor.</param>
    /// <returns>The regularizer.</returns>
    public static Regularizer L1Penalty(float l1 = 0.01f) => new("l1", l1, 0f);

    /// <summary>Keras <c>L2(l2=0.01)</c>.</summary>
    /// <param name="l2">The L2 factor.</param>
    /// <returns>The regularizer.</returns>
    public static Regularizer L2Penalty(float l2 = 0.01f) => new("l2", 0f, l2);

    /// <summary>Keras <c>L1L2(l1=0.0, l2=0.0)</c>.</summary>
    /// <param name="l1">The L1 factor.</param>
    /// <param name="l2">The L2 factor.</param>
    /// <returns>The regularizer.</returns>
    public static Regularizer L1L2(float l1 = 0f, float l2 = 0f) => new("l1_l2", l1, l2);

    /// <summary>
    /// Looks a regularizer up by its Keras identifier (<c>keras.regularizers.get</c>), case-insensitively:
    /// <c>l1</c>, <c>l2</c> and <c>l1_l2</c> (also <c>L1L2</c>) with Keras's default factors.
    /// </summary>
    /// <param name="name">The Keras identifier.</param>
    /// <returns>The regularizer.</returns>
    /// <exception cref="ArgumentException">The name is not a Keras regularizer.</exception>
    public static Regularizer FromName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return KerasNames.IdentifierKey(name) switch
        {
            "L1" => L1Penalty(),
            "L2" => L2Penalty(),
            "L1L2" => L1L2(),
            _ => throw new ArgumentException($"regularizer \"{name}\" is not a Keras regularizer (l1, l2, l1_l2).", nameof(name)),
        };
    }

    /// <summary>Computes the penalty on the host, in double: <c>l1 * sum(|w|) + l2 * sum(w^2)</c>.</summary>
    /// <param name="values">The weights or activations.</param>
    /// <returns>The penalty.</returns>
    public double Penalty(ReadOnlySpan<float> values)
    {
        double abs = 0, squares = 0;
        foreach (float v in values)
        {
            abs += Math.Abs(v);
            squares += (double)v * v;
        }

        return (L1 * abs) + (L2 * squares);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}(l1={L1}, l2={L2})";
}
