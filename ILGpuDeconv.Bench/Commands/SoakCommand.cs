using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Commands;

/// <summary>
/// <c>soak</c>: forward and backward passes many times, through both the host and the device API, with
/// device memory, managed memory and every result compared with the first iteration's bit for bit.
/// Exit status 0 only when the results never changed and device memory ended where it started.
/// </summary>
internal static class SoakCommand
{
    public static int Run(Arguments args)
    {
        int iterations = args.Number("iterations", 1000);
        using var device = args.CreateDevice();
        Console.WriteLine($"soak: {iterations} iterations of forward + backward on {device.Info.Kind}: {device.Info.Name}");
        var options = new Conv2DTransposeOptions(filters: 16, kernelSize: 4)
        {
            Strides = 2,
            Padding = Padding.Same,
            Activation = Activation.Gelu,
            KernelInitializer = Initializer.GlorotUniform(seed: 1),
            BiasInitializer = Initializer.RandomUniform(seed: 2),
        };
        var shape = new TensorShape(4, 8, 8, 32);
        var random = new Random(3);
        var input = Enumerable.Range(0, (int)shape.ElementCount).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

        using var layer = new Conv2DTranspose(device, options);
        var outputShape = layer.ComputeOutputShape(shape);
        var upstream = Enumerable.Range(0, (int)outputShape.ElementCount).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        using var x = DeviceTensor.FromHost(device, input, shape);
        using var dy = DeviceTensor.FromHost(device, upstream, outputShape);

        // Iteration 0 makes the reference results and warms every cache.
        var (firstOutput, firstInputGradient, firstKernelGradient) = Step(layer, input, shape, upstream, x, dy, device);
        long deviceStart = device.AllocatedBytes;
        long managedStart = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetStart = Environment.WorkingSet;
        Console.WriteLine(Memory("start", deviceStart, managedStart, workingSetStart));

        int mismatches = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 1; i <= iterations; i++)
        {
            var (output, inputGradient, kernelGradient) = Step(layer, input, shape, upstream, x, dy, device);
            if (!Same(output, firstOutput) || !Same(inputGradient, firstInputGradient) || !Same(kernelGradient, firstKernelGradient))
            {
                mismatches++;
                Console.WriteLine($"iteration {i}: results differ from iteration 0");
            }

            if (i % Math.Max(1, iterations / 5) == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {i,7} iterations, {clock.Elapsed.TotalSeconds,6:F1} s, device {device.AllocatedBytes} B, managed {GC.GetTotalMemory(false) / 1024} KiB"));
            }
        }

        long deviceEnd = device.AllocatedBytes;
        long managedEnd = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetEnd = Environment.WorkingSet;
        Console.WriteLine(Memory("end", deviceEnd, managedEnd, workingSetEnd));
        bool flat = deviceEnd == deviceStart && managedEnd - managedStart < 4L * 1024 * 1024;
        Console.WriteLine($"results bitwise identical to iteration 0: {(mismatches == 0 ? "yes" : $"no ({mismatches} iterations differ)")}");
        Console.WriteLine($"device memory flat: {(deviceEnd == deviceStart ? "yes" : "no")}; managed memory growth: {(managedEnd - managedStart) / 1024} KiB");
        return mismatches == 0 && flat ? 0 : 1;
    }

    /// <summary>One host round (forward, backward, gradients) and one device round, whose results must agree.</summary>
    private static (float[] Output, float[] InputGradient, float[] KernelGradient) Step(
        Conv2DTranspose layer, float[] input, TensorShape shape, float[] upstream, DeviceTensor x, DeviceTensor dy, DeconvDevice device)
    {
        var output = layer.Forward(input, shape);
        var inputGradient = layer.Backward(upstream);
        var kernelGradient = layer.GetGradients().Kernel;

        using var y = layer.Forward(x);
        using var dx = DeviceTensor.Allocate(device, shape);
        layer.Backward(dy, dx);
        if (!Same(y.ToArray(), output) || !Same(dx.ToArray(), inputGradient) || !Same(layer.GetGradients().Kernel, kernelGradient))
        {
            throw new InvalidOperationException("the device API and the host API disagree");
        }

        return (output, inputGradient, kernelGradient);
    }

    /// <summary>Bitwise equality (NaN patterns included).</summary>
    private static bool Same(float[] a, float[] b) =>
        a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));

    private static string Memory(string when, long device, long managed, long workingSet) => string.Create(
        CultureInfo.InvariantCulture,
        $"{when}: device memory held by ILGpuDeconv {device} B; managed heap {managed / 1024} KiB; working set {workingSet / (1024 * 1024)} MiB");
}
