using System;

namespace ILGpuDeconv;

/// <summary>
/// TensorFlow's and Keras's one-axis shape rules for a transposed convolution: the output length
/// (Keras <c>deconv_output_length</c>), where the full result is cropped (TensorFlow derives it from the
/// forward convolution's padding), and which sizes TensorFlow refuses. Pure integer functions, shared
/// by the layer, the GPU programs' parameters, the tests and the benchmarks.
/// </summary>
public static class Conv2DTransposeRules
{
    /// <summary>The kernel's extent once dilated: <c>(k - 1) * d + 1</c>.</summary>
    /// <param name="kernelSize">The kernel size <c>k</c> (at least 1).</param>
    /// <param name="dilation">The dilation rate <c>d</c> (at least 1).</param>
    /// <returns>The effective kernel size.</returns>
    public static long EffectiveKernelSize(int kernelSize, int dilation) => ((long)kernelSize - 1) * dilation + 1;

    /// <summary>
    /// The output length along one axis, as Keras's <c>deconv_output_length</c> computes it.
    /// Without <paramref name="outputPadding"/>: <c>valid</c> gives <c>n*s + max(k_eff - s, 0)</c> and <c>same</c>
    /// gives <c>n*s</c>. With it: <c>(n - 1)*s + k_eff - 2*pad + output_padding</c>, where <c>pad</c> is
    /// <c>k_eff / 2</c> for <c>same</c> and 0 for <c>valid</c>. The result may be zero or negative for
    /// sizes TensorFlow refuses; <see cref="CheckAxis"/> says which.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="padding">The padding.</param>
    /// <param name="outputPadding">Keras's <c>output_padding</c> for this axis, or null (its default, which is not the same as 0).</param>
    /// <returns>The output length (a long, so that overflow is visible rather than wrapped).</returns>
    public static long OutputLength(int inputLength, int kernelSize, int stride, int dilation, Padding padding, int? outputPadding)
    {
        long kEff = EffectiveKernelSize(kernelSize, dilation);
        long n = inputLength;
        if (outputPadding is null)
        {
            return padding == Padding.Valid ? (n * stride) + Math.Max(kEff - stride, 0) : n * stride;
        }

        long pad = padding == Padding.Same ? kEff / 2 : 0;
        return ((n - 1) * stride) + kEff - (2 * pad) + outputPadding.Value;
    }

    /// <summary>
    /// How many leading rows (or columns) of the full transposed result TensorFlow drops: the
    /// <c>pad_before</c> of the forward convolution that maps the output back to the input. For
    /// <c>same</c>: <c>max(0, (n - 1)*s + k_eff - out) / 2</c>, the odd remainder being cropped at the end;
    /// for <c>valid</c>: 0.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="outputLength">The output length (from <see cref="OutputLength"/>).</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="padding">The padding.</param>
    /// <returns>The crop at the start of the axis.</returns>
    public static long CropBegin(int inputLength, long outputLength, int kernelSize, int stride, int dilation, Padding padding)
    {
        if (padding == Padding.Valid)
        {
            return 0;
        }

        long need = Math.Max(0, ((inputLength - 1L) * stride) + EffectiveKernelSize(kernelSize, dilation) - outputLength);
        return need / 2;
    }

    /// <summary>
    /// Checks one axis as TensorFlow does: the output must be at least one element long, and the forward
    /// convolution implied by the output length must map back to the input length (for <c>same</c>,
    /// <c>ceil(out / s) == n</c>; for <c>valid</c>, <c>(out - k_eff) / s + 1 == n</c> with <c>out &gt;= k_eff</c>).
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="outputLength">The output length.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="padding">The padding.</param>
    /// <returns>Null when TensorFlow accepts the sizes; otherwise the reason it refuses them.</returns>
    public static string? CheckAxis(int inputLength, long outputLength, int kernelSize, int stride, int dilation, Padding padding)
    {
        if (outputLength < 1)
        {
            return $"the output length would be {outputLength}";
        }

        long kEff = EffectiveKernelSize(kernelSize, dilation);
        long mappedBack;
        if (padding == Padding.Same)
        {
            mappedBack = (outputLength + stride - 1) / stride;
        }
        else
        {
            if (outputLength < kEff)
            {
                return $"the output length {outputLength} is shorter than the dilated kernel ({kEff})";
            }

            mappedBack = ((outputLength - kEff) / stride) + 1;
        }

        return mappedBack == inputLength
            ? null
            : $"the forward convolution of the output length {outputLength} gives {mappedBack}, not the input length {inputLength}";
    }

    /// <summary>
    /// PyTorch's output length along one axis for <c>ConvTranspose2d</c>: <c>(n - 1)*s - 2*padding + k_eff + output_padding</c>.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="padding">PyTorch's padding for this axis (cropped at both ends).</param>
    /// <param name="outputPadding">PyTorch's output padding for this axis.</param>
    /// <returns>The output length; below 1 for sizes PyTorch refuses.</returns>
    public static long PyTorchOutputLength(int inputLength, int kernelSize, int stride, int dilation, int padding, int outputPadding) =>
        (((long)inputLength - 1) * stride) - (2L * padding) + EffectiveKernelSize(kernelSize, dilation) + outputPadding;

    /// <summary>
    /// Checks an explicit output length as PyTorch's <c>forward(input, output_size)</c> does: it must lie between the
    /// smallest output (output padding 0) and that plus <c>stride - 1</c>.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="outputLength">The requested output length.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="padding">PyTorch's padding for this axis.</param>
    /// <returns>Null when PyTorch accepts the size; otherwise the reason it refuses it.</returns>
    public static string? CheckPyTorchOutputLength(int inputLength, long outputLength, int kernelSize, int stride, int dilation, int padding)
    {
        long smallest = PyTorchOutputLength(inputLength, kernelSize, stride, dilation, padding, 0);
        long largest = smallest + stride - 1;
        return outputLength >= Math.Max(1, smallest) && outputLength <= largest
            ? null
            : $"the requested output length {outputLength} is outside the valid lengths {smallest} to {largest}";
    }

    /// <summary>
    /// The output length along one axis with padding per edge (ONNX <c>pads</c>, <c>tf.nn.conv2d_transpose</c>'s explicit
    /// padding): <c>(n - 1)*s + k_eff + output_padding - begin - end</c>.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="begin">The padding at the start (may be negative).</param>
    /// <param name="end">The padding at the end (may be negative).</param>
    /// <param name="outputPadding">The output padding.</param>
    /// <returns>The output length.</returns>
    public static long PaddedOutputLength(int inputLength, int kernelSize, int stride, int dilation, int begin, int end, int outputPadding) =>
        (((long)inputLength - 1) * stride) + EffectiveKernelSize(kernelSize, dilation) + outputPadding - begin - end;

    /// <summary>
    /// Checks an explicit output length with padding per edge as TensorFlow's <c>conv2d_transpose</c> does with explicit
    /// padding: the forward convolution of the output, padded by <paramref name="begin"/> and <paramref name="end"/>, must
    /// give the input length back, so the output lies between the length without output padding and that plus
    /// <c>stride - 1</c>.
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="outputLength">The requested output length.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation rate <c>d</c>.</param>
    /// <param name="begin">The padding at the start.</param>
    /// <param name="end">The padding at the end.</param>
    /// <returns>Null when accepted, else why not.</returns>
    public static string? CheckPaddedOutputLength(int inputLength, long outputLength, int kernelSize, int stride, int dilation, int begin, int end)
    {
        long smallest = PaddedOutputLength(inputLength, kernelSize, stride, dilation, begin, end, 0);
        long largest = smallest + stride - 1;
        return outputLength >= Math.Max(1, smallest) && outputLength <= largest
            ? null
            : $"the requested output length {outputLength} is outside the valid lengths {smallest} to {largest}";
    }

    /// <summary>
    /// ONNX <c>ConvTranspose</c>'s padding of one axis from its attributes, as the operator's specification (and its
    /// reference implementation) computes it. With <paramref name="outputShape"/> (or <c>SAME_UPPER</c>/<c>SAME_LOWER</c>,
    /// whose output is <c>n * s</c>) the total padding is <c>s*(n - 1) + output_padding + k_eff - output</c>, split as
    /// <c>total / 2</c> at the start and the rest at the end for <c>SAME_UPPER</c>, the other way round otherwise
    /// (<c>SAME_LOWER</c>, and <c>NOTSET</c> with <c>output_shape</c>); the division floors, so a negative total adds rows
    /// past the end first. Otherwise the explicit <paramref name="begin"/> and <paramref name="end"/> (0 for <c>VALID</c>).
    /// </summary>
    /// <param name="inputLength">The input length <c>n</c>.</param>
    /// <param name="kernelSize">The kernel size <c>k</c>.</param>
    /// <param name="stride">The stride <c>s</c>.</param>
    /// <param name="dilation">The dilation <c>d</c>.</param>
    /// <param name="outputPadding">ONNX <c>output_padding</c> of this axis.</param>
    /// <param name="autoPad">ONNX <c>auto_pad</c>: <c>NOTSET</c>, <c>VALID</c>, <c>SAME_UPPER</c> or <c>SAME_LOWER</c>.</param>
    /// <param name="outputShape">ONNX <c>output_shape</c> of this axis, or null.</param>
    /// <param name="begin">ONNX <c>pads</c> at the start of this axis.</param>
    /// <param name="end">ONNX <c>pads</c> at the end of this axis.</param>
    /// <returns>The padding at the start and the end.</returns>
    /// <exception cref="ArgumentException"><paramref name="autoPad"/> is none of the four.</exception>
    public static (int Begin, int End) OnnxPads(int inputLength, int kernelSize, int stride, int dilation, int outputPadding, string autoPad, int? outputShape, int begin, int end)
    {
        ArgumentNullException.ThrowIfNull(autoPad);
        bool upper = autoPad == "SAME_UPPER";
        if (!upper && autoPad is not ("SAME_LOWER" or "NOTSET" or "VALID" or ""))
        {
            throw new ArgumentException($"auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER; got \"{autoPad}\".", nameof(autoPad));
        }

        long? output = outputShape is int shape ? shape : autoPad is "SAME_UPPER" or "SAME_LOWER" ? (long)inputLength * stride : null;
        if (output is not long length)
        {
            return autoPad == "VALID" ? (0, 0) : (begin, end);
        }

        long total = ((long)stride * (inputLength - 1)) + outputPadding + EffectiveKernelSize(kernelSize, dilation) - length;
        long half = (long)Math.Floor(total / 2.0);
        return upper ? ((int)half, (int)(total - half)) : ((int)(total - half), (int)half);
    }
}
