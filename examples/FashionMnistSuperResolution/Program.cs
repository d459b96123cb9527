using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>
/// Trains the 7x7 to 28x28 super-resolution network on Fashion-MNIST, reports the test PSNR beside nearest
/// and bilinear upsampling, saves the weights and a PNG grid (input, bilinear, ours, original).
/// </summary>
internal static class Program
{
    private const string Usage = """
        FashionMnistSuperResolution [--data DIR] [--epochs N] [--batch N] [--learning-rate LR] [--seed N]
                                    [--train-images N] [--test-images N] [--accelerator auto|cpu|opencl|cuda] [--out DIR]

          --data           the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)
          --epochs         passes over the training images (default 3)
          --batch          images per mini-batch (default 32)
          --learning-rate  Adam's learning rate (default 0.002)
          --seed           initial weights and batch order (default 1): two runs with one seed give the same weights
          --train-images   use the first N training images (default all 60,000)
          --test-images    evaluate on the first N test images (default all 10,000)
          --accelerator    as ILGpuDeconv's DeconvDevice chooses (default auto: CUDA, else OpenCL, else CPU)
          --out            where the weights (.npz) and the picture go (default fashion-mnist-sr)
        """;

    private static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or FormatException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static int Run(string[] args)
    {
        string data = FashionMnistData.DebianDirectory, output = "fashion-mnist-sr", accelerator = "auto";
        int epochs = 3, batch = 32, seed = 1;
        int? trainImages = null, testImages = null;
        float learningRate = 0.002f;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--data": data = Next(); break;
                case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch": batch = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--learning-rate": learningRate = float.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--train-images": trainImages = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--test-images": testImages = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--accelerator": accelerator = Next(); break;
                case "--out": output = Next(); break;
                case "--help" or "-h": Console.WriteLine(Usage); return 0;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        if (FashionMnistData.Missing(data) is { } missing)
        {
            Console.Error.WriteLine(missing);
            return 3;
        }

        using var device = DeconvDevice.Create(DeconvDevice.ParseKind(accelerator, "--accelerator"));
        var train = FashionMnistData.Load(data, train: true, trainImages);
        var test = FashionMnistData.Load(data, train: false, testImages);
        Console.WriteLine($"Fashion-MNIST super-resolution 7x7 -> 28x28 on {device.Info.Kind}: {device.Info.Name}");
        Console.WriteLine($"{train.Count} training images, {test.Count} test images; {epochs} epoch(s) of batches of {batch}, Adam({learningRate.ToString(CultureInfo.InvariantCulture)}), seed {seed}");

        using var model = new SuperResolutionModel(device, seed);
        var clock = Stopwatch.StartNew();
        model.Train(train, epochs, batch, learningRate, seed, reportEvery: 200, log: Console.WriteLine);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"training took {trainSeconds:F1} s ({trainSeconds / epochs:F1} s per epoch)");

        var ours = model.Predict(test.Low, test.Count, batch: 250);
        var nearest = Upsampling.Nearest(test.Low, test.Count);
        var bilinear = Upsampling.Bilinear(test.Low, test.Count);
        Console.WriteLine($"test PSNR over {test.Count} images (dB, higher is better):");
        Console.WriteLine($"  nearest neighbour  {Upsampling.Psnr(nearest, test.High),6:F2}");
        Console.WriteLine($"  bilinear           {Upsampling.Psnr(bilinear, test.High),6:F2}");
        Console.WriteLine($"  ILGpuDeconv        {Upsampling.Psnr(ours, test.High),6:F2}");

        foreach (string path in model.SaveWeights(output))
        {
            Console.WriteLine($"saved {path}");
        }

        string picture = Path.Combine(output, "fashion-mnist-sr.png");
        Grid.Write(picture, test, nearest, bilinear, ours, rows: 8);
        Console.WriteLine($"saved {picture} (columns: 7x7 input, bilinear, ILGpuDeconv, original)");
        return 0;
    }
}
