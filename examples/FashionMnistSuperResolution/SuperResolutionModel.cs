using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace ILGpuDeconv.Examples.FashionMnist;

/// <summary>
/// 7x7 to 28x28 super-resolution with three transposed convolutions:
/// ConvT(1->64, k4, s2, same, relu) -> ConvT(64->32, k4, s2, same, relu) -> ConvT(32->1, k3, s1, same, sigmoid),
/// trained with mean squared error and Adam. Layers pass device tensors to each other; per batch, only the
/// input goes up, the output comes down for the loss, and its gradient goes up.
/// </summary>
internal sealed class SuperResolutionModel : IDisposable
{
    private const int S = FashionMnistData.Size, L = FashionMnistData.LowSize;
    private readonly DeconvDevice device;
    private readonly Conv2DTranspose up1;
    private readonly Conv2DTranspose up2;
    private readonly Conv2DTranspose output;

    /// <summary>Creates the layers, initialised from <paramref name="seed"/> (Keras's defaults: Glorot-uniform kernels, zero biases).</summary>
    public SuperResolutionModel(DeconvDevice device, int seed)
    {
        this.device = device;
        up1 = new Conv2DTranspose(device, new Conv2DTransposeOptions(64, 4)
        {
            Strides = 2, Padding = Padding.Same, Activation = Activation.Relu, KernelInitializer = Initializer.GlorotUniform(seed),
        });
        up2 = new Conv2DTranspose(device, new Conv2DTransposeOptions(32, 4)
        {
            Strides = 2, Padding = Padding.Same, Activation = Activation.Relu, KernelInitializer = Initializer.GlorotUniform(seed + 1),
        });
        output = new Conv2DTranspose(device, new Conv2DTransposeOptions(1, 3)
        {
            Padding = Padding.Same, Activation = Activation.Sigmoid, KernelInitializer = Initializer.GlorotUniform(seed + 2),
        });
        up1.Build(1);
        up2.Build(64);
        output.Build(32);
    }

    /// <summary>Gets the layers, input side first.</summary>
    public IReadOnlyList<Conv2DTranspose> Layers => [up1, up2, output];

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs of full mini-batches in a seeded random order, reporting the
    /// loss every <paramref name="reportEvery"/> batches. Returns the mean loss of each reporting window.
    /// </summary>
    public IReadOnlyList<double> Train(
        FashionMnistData data, int epochs, int batch, float learningRate, int seed, int reportEvery = 50, Action<string>? log = null)
    {
        int batches = data.Count / batch;
        if (batches == 0)
        {
            throw new ArgumentException($"{data.Count} images make no batch of {batch}.", nameof(batch));
        }

        var optimizer = new Adam(learningRate);
        using var x = DeviceTensor.Allocate(device, new TensorShape(batch, L, L, 1));
        using var h1 = DeviceTensor.Allocate(device, new TensorShape(batch, 14, 14, 64));
        using var h2 = DeviceTensor.Allocate(device, new TensorShape(batch, S, S, 32));
        using var y = DeviceTensor.Allocate(device, new TensorShape(batch, S, S, 1));
        using var dy = DeviceTensor.Allocate(device, y.Shape);
        using var dh2 = DeviceTensor.Allocate(device, h2.Shape);
        using var dh1 = DeviceTensor.Allocate(device, h1.Shape);
        var xHost = new float[x.Length];
        var target = new float[y.Length];
        var yHost = new float[y.Length];
        var dyHost = new float[y.Length];
        var windows = new List<double>();
        double windowLoss = 0;
        int windowBatches = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var order = new int[data.Count];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
            }

            new Random(seed + epoch).Shuffle(order);
            for (int b = 0; b < batches; b++)
            {
                for (int i = 0; i < batch; i++)
                {
                    int n = order[(b * batch) + i];
                    data.Low.AsSpan(n * L * L, L * L).CopyTo(xHost.AsSpan(i * L * L));
                    data.High.AsSpan(n * S * S, S * S).CopyTo(target.AsSpan(i * S * S));
                }

                x.CopyFromHost(xHost);
                up1.Forward(x, h1);
                up2.Forward(h1, h2);
                output.Forward(h2, y);
                y.CopyToHost(yHost);

                // Mean squared error over every pixel of the batch, and its gradient.
                double loss = 0;
                float scale = 2f / yHost.Length;
                for (int i = 0; i < yHost.Length; i++)
                {
                    float d = yHost[i] - target[i];
                    loss += (double)d * d;
                    dyHost[i] = scale * d;
                }

                dy.CopyFromHost(dyHost);
                output.Backward(dy, dh2);
                up2.Backward(dh2, dh1);
                up1.Backward(dh1, null);
                optimizer.Step(up1, up2, output);

                windowLoss += loss / yHost.Length;
                if (++windowBatches == reportEvery || b == batches - 1)
                {
                    windows.Add(windowLoss / windowBatches);
                    double seconds = clock.Elapsed.TotalSeconds;
                    long seen = (((long)(epoch - 1) * batches) + b + 1) * batch;
                    log?.Invoke($"epoch {epoch}/{epochs}  batch {b + 1}/{batches}  loss {windows[^1]:F5}  {seen / seconds:F0} images/s");
                    windowLoss = 0;
                    windowBatches = 0;
                }
            }
        }

        device.Synchronize();
        return windows;
    }

    /// <summary>Upsamples 7x7 images, <paramref name="batch"/> at a time (inference: nothing is kept for a backward pass).</summary>
    public float[] Predict(float[] low, int count, int batch)
    {
        var result = new float[count * S * S];
        for (int start = 0; start < count; start += batch)
        {
            int n = Math.Min(batch, count - start);
            using var x = DeviceTensor.FromHost(device, low.AsSpan(start * L * L, n * L * L), new TensorShape(n, L, L, 1));
            using var h1 = DeviceTensor.Allocate(device, new TensorShape(n, 14, 14, 64));
            using var h2 = DeviceTensor.Allocate(device, new TensorShape(n, S, S, 32));
            using var y = DeviceTensor.Allocate(device, new TensorShape(n, S, S, 1));
            up1.Predict(x, h1);
            up2.Predict(h1, h2);
            output.Predict(h2, y);
            y.CopyToHost(result.AsSpan(start * S * S, n * S * S));
        }

        return result;
    }

    /// <summary>Saves each layer's weights as <c>.npz</c> (Keras layout) into a folder.</summary>
    public IReadOnlyList<string> SaveWeights(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var paths = new List<string>();
        string[] names = ["up1", "up2", "output"];
        for (int i = 0; i < 3; i++)
        {
            string path = System.IO.Path.Combine(directory, $"sr_{names[i]}.npz");
            Layers[i].SaveWeights(path);
            paths.Add(path);
        }

        return paths;
    }

    public void Dispose()
    {
        up1.Dispose();
        up2.Dispose();
        output.Dispose();
    }
}
