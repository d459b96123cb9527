using System;
using System.IO;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>
/// Fashion-MNIST images as float pixels in [0, 1], each with its 7x7 low-resolution version (the average of
/// each 4x4 block), as the super-resolution task takes them.
/// </summary>
internal sealed class FashionMnistData
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package puts the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    public const int Size = 28;
    public const int LowSize = 7;
    public const int Factor = Size / LowSize;

    private FashionMnistData(float[] high, float[] low, int count)
    {
        High = high;
        Low = low;
        Count = count;
    }

    /// <summary>Gets the number of images.</summary>
    public int Count { get; }

    /// <summary>Gets the 28x28 images, row-major, one after the other (NHWC with one channel).</summary>
    public float[] High { get; }

    /// <summary>Gets the 7x7 averages, likewise.</summary>
    public float[] Low { get; }

    /// <summary>Says how to get the data when it is missing, or null when it is there.</summary>
    public static string? Missing(string directory) =>
        File.Exists(ImagesPath(directory, train: true)) && File.Exists(ImagesPath(directory, train: false))
            ? null
            : $"Fashion-MNIST is not in {directory}. On Debian: sudo apt-get install dataset-fashion-mnist (it installs to {DebianDirectory}); " +
              "or put train-images-idx3-ubyte(.gz) and t10k-images-idx3-ubyte(.gz) from the Fashion-MNIST release there and pass --data DIR.";

    /// <summary>Loads the training or the test images, the first <paramref name="limit"/> of them when given.</summary>
    public static FashionMnistData Load(string directory, bool train, int? limit = null)
    {
        var (dims, bytes) = IdxFile.Read(ImagesPath(directory, train), rank: 3);
        if (dims[1] != Size || dims[2] != Size)
        {
            throw new InvalidDataException($"{ImagesPath(directory, train)}: images are {dims[1]}x{dims[2]}; Fashion-MNIST's are {Size}x{Size}.");
        }

        int count = Math.Min(dims[0], limit ?? int.MaxValue);
        var high = new float[count * Size * Size];
        for (int i = 0; i < high.Length; i++)
        {
            high[i] = bytes[i] / 255f;
        }

        var low = new float[count * LowSize * LowSize];
        for (int n = 0; n < count; n++)
        {
            for (int y = 0; y < LowSize; y++)
            {
                for (int x = 0; x < LowSize; x++)
                {
                    float sum = 0;
                    for (int dy = 0; dy < Factor; dy++)
                    {
                        for (int dx = 0; dx < Factor; dx++)
                        {
                            sum += high[(n * Size * Size) + (((y * Factor) + dy) * Size) + (x * Factor) + dx];
                        }
                    }

                    low[(n * LowSize * LowSize) + (y * LowSize) + x] = sum / (Factor * Factor);
                }
            }
        }

        return new FashionMnistData(high, low, count);
    }

    private static string ImagesPath(string directory, bool train)
    {
        string name = train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
        string plain = Path.Combine(directory, name);
        return File.Exists(plain) ? plain : plain + ".gz";
    }
}
