using System;
using System.Linq;
using System.Threading.Tasks;
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
        var options = new Conv2DTransposeOptions(4, 3) { Strides = 2, Padding = Padding.Same, Activation = ILGpuDeconv.Activation.Tanh };
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

    [Test]
    public void Layers_sharing_weights_through_reuse_work_from_two_threads()
    {
        // Two layers, one name, one weight set (TensorFlow's reuse). Each thread trains through its own layer
        // with the same data; every result must be one of the states a one-at-a-time order could produce.
        var device = TestAccelerators.Any();
        string name = "shared-" + Guid.NewGuid().ToString("N");
        var options = new Conv2DTransposeOptions(3, 2) { Strides = 2, Name = name };
        var (first, x, _) = Layers.Random(device, options, Shape, seed: 120);
        using (first)
        {
            using var second = new Conv2DTranspose(device, options with { Reuse = true });
            var upstream = RandomTensors.Uniform(new Random(121), first.ComputeOutputShape(Shape).ElementCount);
            var y0 = first.Predict(x, Shape);
            Parallel.For(0, 2, t =>
            {
                var layer = t == 0 ? first : second;
                for (int i = 0; i < 20; i++)
                {
                    var y = layer.Predict(x, Shape);
                    if (!y.SequenceEqual(y0))
                    {
                        throw new InvalidOperationException($"thread {t}: the shared weights changed under a Predict");
                    }

                    layer.Forward(x, Shape);
                    layer.Backward(upstream, new float[Shape.ElementCount], accumulate: false);
                }
            });
            Assert.That(second.GetWeights().Kernel, Is.EqualTo(first.GetWeights().Kernel), "one weight set");
            Assert.That(second.GetGradients().Kernel, Is.EqualTo(first.GetGradients().Kernel), "one gradient set");
        }
    }

    [Test]
    public void SetWeights_and_optimizer_steps_racing_Predict_give_only_whole_states()
    {
        // A Predict sees the weights before or after a SetWeights / step, never a mixture.
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(3, 2) { Strides = 2 };
        var (layer, x, _) = Layers.Random(device, options, Shape, seed: 130);
        using (layer)
        {
            var (k0, b0) = layer.GetWeights();
            var k1 = k0.Select(v => -v).ToArray();
            var b1 = b0!.Select(v => v + 1).ToArray();
            var y0 = layer.Predict(x, Shape);
            layer.SetWeights(k1, b1);
            var y1 = layer.Predict(x, Shape);
            var upstream = RandomTensors.Uniform(new Random(131), y0.Length);

            var writer = Task.Run(() =>
            {
                for (int i = 0; i < 30; i++)
                {
                    layer.SetWeights(i % 2 == 0 ? k0 : k1, i % 2 == 0 ? b0 : b1);
                }
            });
            var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            {
                for (int i = 0; i < 30; i++)
                {
                    var y = layer.Predict(x, Shape);
                    if (!y.SequenceEqual(y0) && !y.SequenceEqual(y1))
                    {
                        throw new InvalidOperationException("a Predict saw half-set weights");
                    }
                }
            })).ToArray();
            Task.WaitAll([writer, .. readers]);

            // Optimizer steps racing Predict: each output equals one computed from a whole weight state.
            layer.SetWeights(k0, b0);
            var optimizer = new ILGpuDeconv.Sgd(0.01f);
            var stepper = Task.Run(() =>
            {
                for (int i = 0; i < 10; i++)
                {
                    layer.Forward(x, Shape);
                    layer.Backward(upstream);
                    optimizer.Step(layer);
                }
            });
            var outputs = new System.Collections.Concurrent.ConcurrentBag<float[]>();
            var predictor = Task.Run(() =>
            {
                while (!stepper.IsCompleted)
                {
                    outputs.Add(layer.Predict(x, Shape));
                }
            });
            Task.WaitAll(stepper, predictor);
            Assert.That(optimizer.Iterations, Is.EqualTo(10));

            // Replay the steps on a twin, one at a time, collecting every state's output.
            var (twin, _, _) = Layers.Random(device, options, Shape, seed: 130);
            using (twin)
            {
                var twinOptimizer = new ILGpuDeconv.Sgd(0.01f);
                var states = new System.Collections.Generic.List<float[]> { twin.Predict(x, Shape) };
                for (int i = 0; i < 10; i++)
                {
                    twin.Forward(x, Shape);
                    twin.Backward(upstream);
                    twinOptimizer.Step(twin);
                    states.Add(twin.Predict(x, Shape));
                }

                Assert.That(outputs.All(o => states.Any(s => s.SequenceEqual(o))), "every racing Predict saw a whole state");
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(twin.GetWeights().Kernel), "same final weights");
            }
        }
    }
}
