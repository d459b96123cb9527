using System;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>The baselines (nearest-neighbour and bilinear upsampling of the 7x7 input) and the PSNR that compares them.</summary>
internal static class Upsampling
{
    /// <summary>Each low-resolution pixel repeated over its 4x4 block.</summary>
    public static float[] Nearest(ReadOnlySpan<float> low, int count)
    {
        const int S = FashionMnistData.Size, L = FashionMnistData.LowSize, F = FashionMnistData.Factor;
        var high = new float[count * S * S];
        for (int n = 0; n < count; n++)
        {
            for (int y = 0; y < S; y++)
            {
                for (int x = 0; x < S; x++)
                {
                    high[(n * S * S) + (y * S) + x] = low[(n * L * L) + (y / F * L) + (x / F)];
                }
            }
        }

        return high;
    }

    /// <summary>Bilinear upsampling with half-pixel centres and clamped edges (TensorFlow's and PyTorch's default).</summary>
    public static float[] Bilinear(ReadOnlySpan<float> low, int count)
    {
        const int S = FashionMnistData.Size, L = FashionMnistData.LowSize;
        var high = new float[count * S * S];
        for (int n = 0; n < count; n++)
        {
            var image = low.Slice(n * L * L, L * L);
            for (int y = 0; y < S; y++)
            {
                double sy = Math.Clamp(((y + 0.5) * L / S) - 0.5, 0, L - 1);
                int y0 = (int)sy, y1 = Math.Min(y0 + 1, L - 1);
                double fy = sy - y0;
                for (int x = 0; x < S; x++)
                {
                    double sx = Math.Clamp(((x + 0.5) * L / S) - 0.5, 0, L - 1);
                    int x0 = (int)sx, x1 = Math.Min(x0 + 1, L - 1);
                    double fx = sx - x0;
                    double top = (image[(y0 * L) + x0] * (1 - fx)) + (image[(y0 * L) + x1] * fx);
                    double bottom = (image[(y1 * L) + x0] * (1 - fx)) + (image[(y1 * L) + x1] * fx);
                    high[(n * S * S) + (y * S) + x] = (float)((top * (1 - fy)) + (bottom * fy));
                }
            }
        }

        return high;
    }

    /// <summary>Peak signal-to-noise ratio in dB for pixels in [0, 1]: <c>10 log10(1 / MSE)</c> over all pixels.</summary>
    public static double Psnr(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"{actual.Length} pixels against {expected.Length}.", nameof(actual));
        }

        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            sum += d * d;
        }

        return 10 * Math.Log10(1 / (sum / actual.Length));
    }
}
