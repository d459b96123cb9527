using System;
using System.Globalization;

namespace ILGpuDeconv;

/// <summary>
/// A pair of per-axis integers (height, width), the .NET form of the Keras arguments that take
/// an int or a tuple of two ints: <c>kernel_size</c>, <c>strides</c>, <c>dilation_rate</c> and
/// <c>output_padding</c>. An <see cref="int"/> converts to the pair (n, n), a tuple (h, w) to (h, w).
/// </summary>
/// <param name="Height">The value along the height (row) axis.</param>
/// <param name="Width">The value along the width (column) axis.</param>
public readonly record struct Size2D(int Height, int Width)
{
    /// <summary>Creates the pair (<paramref name="both"/>, <paramref name="both"/>), as Keras does for a single int.</summary>
    /// <param name="both">The value for both axes.</param>
    public Size2D(int both)
        : this(both, both)
    {
    }

    /// <summary>Converts a single int to the pair (n, n), as Keras does.</summary>
    /// <param name="both">The value for both axes.</param>
    public static implicit operator Size2D(int both) => new(both);

    /// <summary>Converts a (height, width) tuple to a pair.</summary>
    /// <param name="pair">The tuple.</param>
    public static implicit operator Size2D((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <summary>Creates the pair (n, n); the named form of the implicit conversion from <see cref="int"/>.</summary>
    /// <param name="both">The value for both axes.</param>
    /// <returns>The pair.</returns>
    public static Size2D FromInt32(int both) => new(both);

    /// <summary>Creates a pair from a tuple; the named form of the implicit conversion.</summary>
    /// <param name="pair">The tuple.</param>
    /// <returns>The pair.</returns>
    public static Size2D FromValueTuple((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <summary>Gets the value of one axis: 0 for height, 1 for width.</summary>
    /// <param name="axis">0 (height) or 1 (width).</param>
    /// <returns>The value along that axis.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axis"/> is not 0 or 1.</exception>
    public int this[int axis] => axis switch
    {
        0 => Height,
        1 => Width,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "A 2-D size has axes 0 (height) and 1 (width)."),
    };

    /// <summary>Formats the pair as Python would print the tuple, e.g. <c>(2, 3)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Height}, {Width})");
}
