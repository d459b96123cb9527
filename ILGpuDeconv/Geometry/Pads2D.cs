using System.Globalization;

namespace ILGpuDeconv;

/// <summary>
/// Padding given per edge: ONNX <c>ConvTranspose</c>'s <c>pads</c> (<c>[top, left, bottom, right]</c> in its order)
/// and <c>tf.nn.conv2d_transpose</c>'s explicit <c>padding=[[0, 0], [top, bottom], [left, right], [0, 0]]</c>. For a
/// transposed convolution these are the rows cropped from the top and the bottom of the full result and the columns
/// cropped from its left and right. A negative value crops less than nothing: it adds rows or columns past that edge of
/// the full result, which no product reaches (only the bias), as ONNX's <c>output_shape</c> can imply.
/// </summary>
/// <param name="Top">Rows cropped at the top (ONNX <c>pads[0]</c>).</param>
/// <param name="Bottom">Rows cropped at the bottom (ONNX <c>pads[2]</c>).</param>
/// <param name="Left">Columns cropped at the left (ONNX <c>pads[1]</c>).</param>
/// <param name="Right">Columns cropped at the right (ONNX <c>pads[3]</c>).</param>
public readonly record struct Pads2D(int Top, int Bottom, int Left, int Right)
{
    /// <summary>The same padding on both edges of each axis, as PyTorch's <c>padding</c>.</summary>
    /// <param name="padding">The padding of each axis.</param>
    /// <returns>The pads.</returns>
    public static Pads2D Symmetric(Size2D padding) => new(padding.Height, padding.Height, padding.Width, padding.Width);

    /// <summary>Creates the pads from ONNX's order <c>[top, left, bottom, right]</c>.</summary>
    /// <param name="top">Rows cropped at the top.</param>
    /// <param name="left">Columns cropped at the left.</param>
    /// <param name="bottom">Rows cropped at the bottom.</param>
    /// <param name="right">Columns cropped at the right.</param>
    /// <returns>The pads.</returns>
    public static Pads2D FromOnnx(int top, int left, int bottom, int right) => new(top, bottom, left, right);

    /// <summary>Formats the pads, e.g. <c>top 1, bottom 2, left 0, right -1</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"top {Top}, bottom {Bottom}, left {Left}, right {Right}");
}
