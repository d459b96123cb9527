using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ILGpuDeconv;

/// <summary>
/// The immutable shape of a dense, row-major float tensor, e.g. <c>[N, H, W, C]</c>. Dimensions are
/// positive; the element count may exceed <see cref="int.MaxValue"/> (the layer refuses such tensors
/// with a clear message rather than overflowing).
/// </summary>
public sealed class TensorShape : IEquatable<TensorShape>
{
    private readonly int[] dimensions;

    /// <summary>Creates a shape from its dimensions, outermost first.</summary>
    /// <param name="dimensions">The sizes; each must be at least 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="dimensions"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no dimensions, or one is zero or negative.</exception>
    public TensorShape(params int[] dimensions)
    {
        ArgumentNullException.ThrowIfNull(dimensions);
        if (dimensions.Length == 0)
        {
            throw new ArgumentException("A tensor shape needs at least one dimension.", nameof(dimensions));
        }

        long count = 1;
        foreach (int d in dimensions)
        {
            if (d < 1)
            {
                throw new ArgumentException(
                    $"Every dimension must be at least 1; got {Format(dimensions)}.", nameof(dimensions));
            }

            count = count > long.MaxValue / d ? long.MaxValue : count * d;
        }

        this.dimensions = (int[])dimensions.Clone();
        ElementCount = count;
    }

    /// <summary>Gets the number of dimensions.</summary>
    public int Rank => dimensions.Length;

    /// <summary>Gets the number of elements (the product of the dimensions; saturates at <see cref="long.MaxValue"/>).</summary>
    public long ElementCount { get; }

    /// <summary>Gets the dimensions, outermost first.</summary>
    public IReadOnlyList<int> Dimensions => dimensions;

    /// <summary>Gets one dimension.</summary>
    /// <param name="axis">The axis, 0 being the outermost.</param>
    /// <returns>The size along <paramref name="axis"/>.</returns>
    public int this[int axis] => dimensions[axis];

    /// <summary>Checks two shapes for equality.</summary>
    /// <param name="left">The first shape.</param>
    /// <param name="right">The second shape.</param>
    /// <returns>True when both are null or have the same dimensions.</returns>
    public static bool operator ==(TensorShape? left, TensorShape? right) =>
        left is null ? right is null : left.Equals(right);

    /// <summary>Checks two shapes for inequality.</summary>
    /// <param name="left">The first shape.</param>
    /// <param name="right">The second shape.</param>
    /// <returns>True when they differ.</returns>
    public static bool operator !=(TensorShape? left, TensorShape? right) => !(left == right);

    /// <summary>Copies the dimensions to a new array.</summary>
    /// <returns>The dimensions, outermost first.</returns>
    public int[] ToArray() => (int[])dimensions.Clone();

    /// <inheritdoc/>
    public bool Equals(TensorShape? other) =>
        other is not null && dimensions.AsSpan().SequenceEqual(other.dimensions);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as TensorShape);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (int d in dimensions)
        {
            hash.Add(d);
        }

        return hash.ToHashCode();
    }

    /// <summary>Formats the shape as Python prints a list, e.g. <c>[2, 5, 5, 3]</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Format(dimensions);

    internal static string Format(IEnumerable<int> dimensions) =>
        "[" + string.Join(", ", dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}
