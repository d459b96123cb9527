using System;
using System.Linq;
using System.Threading.Tasks;
using ILGpuDeconv.Tensors;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// The thread-safety contract: any member may be called from any thread; calls on one layer run one at a
/// time; separate layers on one device run side by side. Results must equal single-threaded ones.
/// </summary>
public sealed class ConcurrencyTests
{
    private static readonly TensorShape Shape = new(2, 4, 5, 3);

    [Test]
    public void Separate_layers_on_one_device_train_concurrently_with_correct_results()
    {
        var device = TestAccelerators.Any();
        const int threads = 8;
        var options = new Conv2DTransposeOptions(4, 3) { Strides = 2, Padding = Padding.Same, Activation = ILGpuDeconv.Activations.Activation.Tanh };
        var work = Enumerable.Range(0, threads).Select(t => Layers.Random(device, options, Shape, seed: 100 + t)).ToArray();
        try
        {
            var upstream = RandomTensors.Uniform(new Random(99), work[0].Layer.ComputeOutputShape(Shape).ElementCount);

            // Single-threaded answers first.
            var expected = work.Select(w =>
            {
                var y = w.Layer.Forward(w.Input, Shape);
                return (Output: y, InputGradient: w.Layer.Backward(upstream), KernelGradient: w.Layer.GetGradients().Kernel);
            }).ToArray();

            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                for (int iteration = 0; iteration < 20; iteration++)
                {
                    var (layer, input, _) = work[t];
                    var y = layer.Forward(input, Shape);
                    var dx = layer.Backward(upstream);
                    var dk = layer.GetGradients().Kernel;
                    if (!y.SequenceEqual(expected[t].Output) || !dx.SequenceEqual(expected[t].InputGradient) || !dk.SequenceEqual(expected[t].KernelGradient))
                    {
                        throw new InvalidOperationException($"thread {t}, iteration {iteration}: a result differs from the single-threaded one");
                    }
                }
            });
        }
        finally
        {
            foreach (var w in work)
            {
                w.Layer.Dispose();
            }
        }
    }

    [Test]
    public void One_layer_serves_inference_to_many_threads()
    {
        var device = TestAccelerators.Any();
        var (layer, _, _) = Layers.Random(device, new Conv2DTransposeOptions(3, 2) { Strides = 2 }, Shape, seed: 120);
        using (layer)
        {
            var inputs = Enumerable.Range(0, 8).Select(t => RandomTensors.Uniform(new Random(130 + t), Shape.ElementCount)).ToArray();
            var expected = inputs.Select(x => layer.Predict(x, Shape)).ToArray();
            Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                var y = layer.Predict(inputs[i % 8], Shape);
                if (!y.SequenceEqual(expected[i % 8]))
                {
                    throw new InvalidOperationException($"call {i}: a result differs from the single-threaded one");
                }
            });
        }
    }

    [Test]
    public void Layers_can_be_created_and_disposed_from_many_threads()
    {
        var device = TestAccelerators.Any();
        long before = device.AllocatedBytes;
        Parallel.For(0, 32, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(2, 2) { Name = $"concurrent-{i}" });
            layer.Predict(new float[Shape.ElementCount], Shape);
        });
        Assert.That(device.AllocatedBytes, Is.EqualTo(before));
    }
}
