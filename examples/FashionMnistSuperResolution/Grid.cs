using System;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>A picture of test images side by side: the 7x7 input (shown enlarged), bilinear, the network's output, the original.</summary>
internal static class Grid
{
    private const int S = FashionMnistData.Size;
    private const int Zoom = 3;
    private const int Gap = 4;

    /// <summary>Writes <paramref name="rows"/> test images as a grayscale PNG.</summary>
    public static void Write(string path, FashionMnistData test, float[] nearest, float[] bilinear, float[] ours, int rows)
    {
        rows = Math.Min(rows, test.Count);
        float[][] columns = [nearest, bilinear, ours, test.High];
        int cell = S * Zoom;
        int width = (columns.Length * cell) + ((columns.Length + 1) * Gap);
        int height = (rows * cell) + ((rows + 1) * Gap);
        var pixels = new byte[width * height];
        Array.Fill(pixels, (byte)255);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns.Length; c++)
            {
                int left = Gap + (c * (cell + Gap)), top = Gap + (r * (cell + Gap));
                for (int y = 0; y < cell; y++)
                {
                    for (int x = 0; x < cell; x++)
                    {
                        float v = columns[c][(r * S * S) + (y / Zoom * S) + (x / Zoom)];
                        pixels[((top + y) * width) + left + x] = (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);
                    }
                }
            }
        }

        Png.WriteGray(path, width, height, pixels);
    }
}
