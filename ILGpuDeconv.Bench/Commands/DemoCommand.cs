using System.Diagnostics;
using System.Globalization;
using System;
using ILGpuDeconv.Bench.Peers;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Commands;

/// <summary>
/// The main job: one DCGAN-like generator layer (8x8x256 to 16x16x128, kernel 4, stride 2, same, relu)
/// on the chosen accelerator, checked against the plain loop, with timings.
/// </summary>
internal static class DemoCommand
{
    public static int Run(Arguments args)
    {
        int batch = args.Number("batch", 16);
        using var device = args.CreateDevice();
        Console.WriteLine($"accelerator: {device.Info.Kind}: {device.Info.Name}");
        Console.WriteLine($"chosen because: {device.SelectionReason}");

        var options = new Conv2DTransposeOptions(filters: 128, kernelSize: 4)
        {
            Strides = 2,
            Padding = Padding.Same,
            Activation = Activation.Relu,
            KernelInitializer = Initializer.GlorotUniform(seed: 1),
            BiasInitializer = Initializer.RandomUniform(-0.1f, 0.1f, seed: 2),
        };
        using var layer = new Conv2DTranspose(device, options);
        var inputShape = new TensorShape(batch, 8, 8, 256);
        var geometry = layer.GetGeometry(inputShape);
        var random = new Random(3);
        var input = new float[geometry.InputElements];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * 2) - 1);
        }

        Console.WriteLine($"layer: {layer}");
        Console.WriteLine($"input {inputShape} -> output {geometry.OutputShape}, {geometry.Flops / 1e9:F2} GFLOP per pass");

        using var x = DeviceTensor.FromHost(device, input, inputShape);
        using var y = DeviceTensor.Allocate(device, geometry.OutputShape);
        var clock = Stopwatch.StartNew();
        layer.Predict(x, y);
        device.Synchronize();
        double first = clock.Elapsed.TotalMilliseconds;
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            clock.Restart();
            layer.Predict(x, y);
            device.Synchronize();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }

        var actual = y.ToArray();
        var (kernel, bias) = layer.GetWeights();
        var plain = new PlainLoopConv2DTranspose(geometry, kernel, bias, relu: true);
        var expected = new float[actual.Length];
        plain.Forward(input, expected);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / (1e-4 + (1e-4 * Math.Abs(expected[i]))));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first call (includes ILGPU's compilation of the programs): {first:F1} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"forward pass: {best:F2} ms (best of 5) = {geometry.Flops / best / 1e6:F2} GFLOP/s on {device.Info.Kind}"));
        bool ok = worst <= 1.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"check against the plain C# loop: {(ok ? "OK" : "MISMATCH")} (worst error {worst:F3} of the tolerance 1e-4 + 1e-4*|b|)"));
        return ok ? 0 : 1;
    }
}
