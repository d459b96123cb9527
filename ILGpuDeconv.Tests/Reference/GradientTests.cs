using System;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reference;

/// <summary>
/// The backward pass checked by finite differences (directional, central, with the loss summed in
/// double), its determinism, and the training-side switches (trainable, accumulate, order of calls).
/// </summary>
public sealed class GradientTests
{
    public static string[] Activations => ReferenceActivations.AllNames;

    [Test]
    public void Gradients_agree_with_finite_differences(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind,
        [ValueSource(nameof(Activations))] string activation)
    {
        var device = TestAccelerators.Require(kind);
        int seed = 1000 + Array.IndexOf(ReferenceActivations.AllNames, activation);
        foreach (var (options, shape) in new (Conv2DTransposeOptions, TensorShape)[]
        {
            (new Conv2DTransposeOptions(3, (3, 2)) { Strides = (2, 1), Padding = Padding.Same }, new TensorShape(2, 3, 4, 2)),
            (new Conv2DTransposeOptions(2, 2) { DilationRate = (2, 1), DataFormat = DataFormat.ChannelsFirst, OutputPadding = 0 }, new TensorShape(1, 3, 4, 3)),
            (new Conv2DTransposeOptions(4, 3) { Strides = 3, OutputPadding = (1, 2) }, new TensorShape(1, 2, 3, 2)),
        })
        {
            CheckByFiniteDifferences(device, options with { Activation = Activation.FromName(activation) }, activation, shape, seed++);
        }
    }

    /// <summary>Where each activation's derivative jumps; a finite difference must not step across one.</summary>
    private static double[] Kinks(string activation) => activation switch
    {
        "relu" or "leaky_relu" or "elu" or "selu" => [0],
        "relu6" => [0, 6],
        "hard_sigmoid" => [-2.5, 2.5],
        "hard_silu" => [-3, 3],
        _ => [],
    };

    private static void CheckByFiniteDifferences(DeconvDevice device, Conv2DTransposeOptions options, string activation, TensorShape shape, int seed)
    {
        using var layer = new Conv2DTranspose(device, options);
        var geometry = layer.GetGeometry(shape);
        var reference = new ReferenceConv2DTranspose(geometry);
        var random = new Random(seed);
        var x = RandomTensors.Uniform(random, geometry.InputElements);
        var kernel = RandomTensors.Uniform(random, geometry.KernelShape.ElementCount, 0.5f);
        var bias = RandomTensors.Uniform(random, options.Filters);
        var upstream = RandomTensors.Uniform(random, geometry.OutputElements);
        var vx = RandomTensors.Uniform(random, x.Length);
        var vk = RandomTensors.Uniform(random, kernel.Length);
        var vb = RandomTensors.Uniform(random, bias.Length);
        layer.SetWeights(kernel, bias);
        layer.Forward(x, shape);
        var dx = layer.Backward(upstream);
        var (dk, db) = layer.GetGradients();

        double Loss(float[] input, float[] k, float[] b)
        {
            layer.SetWeights(k, b);
            return Layers.Loss(layer.Predict(input, shape), upstream);
        }

        float[] Move(float[] a, float[] v, double t) => a.Select((value, i) => (float)(value + (t * v[i]))).ToArray();
        double Dot(float[] g, float[] v) => g.Select((value, i) => (double)value * v[i]).Sum();

        // The pre-activation is linear along each direction: z(t) = z0 + t * dz. The step is the largest
        // (at most 1e-3, or 1e-2 for piecewise-linear activations) that stays clear of every kink.
        var z0 = reference.PreActivation(x, kernel, bias);
        double Step(double[] moved)
        {
            double step = Kinks(activation).Length == 0 || activation is "elu" or "selu" or "hard_silu" ? 1e-3 : 1e-2;
            for (int i = 0; i < z0.Length; i++)
            {
                double dz = moved[i] - z0[i];
                foreach (double kink in Kinks(activation))
                {
                    if (dz != 0)
                    {
                        step = Math.Min(step, 0.5 * Math.Abs(z0[i] - kink) / Math.Abs(dz));
                    }
                }
            }

            Assume.That(step, Is.GreaterThan(2e-5), "the data puts a pre-activation on a kink; no clean finite difference");
            return step;
        }

        double hx = Step(reference.PreActivation(Move(x, vx, 1), kernel, bias));
        double hk = Step(reference.PreActivation(x, Move(kernel, vk, 1), bias));
        double hb = Step(reference.PreActivation(x, kernel, Move(bias, vb, 1)));
        double fdX = (Loss(Move(x, vx, hx), kernel, bias) - Loss(Move(x, vx, -hx), kernel, bias)) / (2 * hx);
        double fdK = (Loss(x, Move(kernel, vk, hk), bias) - Loss(x, Move(kernel, vk, -hk), bias)) / (2 * hk);
        double fdB = (Loss(x, kernel, Move(bias, vb, hb)) - Loss(x, kernel, Move(bias, vb, -hb))) / (2 * hb);

        // Float forward passes carry about 1e-6 of noise in the loss; divided by 2h that is at most a few 1e-3.
        string what = $"{activation}, input {shape}, k={options.KernelSize}, s={options.Strides}, d={options.DilationRate}, steps {hx:G2}/{hk:G2}/{hb:G2}";
        Assert.Multiple(() =>
        {
            Assert.That(Dot(dx, vx), Is.EqualTo(fdX).Within(1e-2 + (2e-3 * Math.Abs(fdX))), "input: " + what);
            Assert.That(Dot(dk, vk), Is.EqualTo(fdK).Within(1e-2 + (2e-3 * Math.Abs(fdK))), "kernel: " + what);
            Assert.That(Dot(db!, vb), Is.EqualTo(fdB).Within(1e-2 + (2e-3 * Math.Abs(fdB))), "bias: " + what);
        });
    }

    [Test]
    public void Repeated_backward_passes_are_bitwise_identical([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        // Large enough that the kernel-gradient reduction is split into chunks and summed afterwards.
        var device = TestAccelerators.Require(kind);
        var options = new Conv2DTransposeOptions(6, 4) { Strides = 2, Padding = Padding.Same, Activation = Activation.Gelu };
        var (layer, x, shape) = Layers.Random(device, options, new TensorShape(4, 12, 10, 5), seed: 11);
        using (layer)
        {
            var upstream = RandomTensors.Uniform(new Random(12), layer.ComputeOutputShape(shape).ElementCount);
            float[]? firstInput = null, firstKernel = null, firstBias = null;
            for (int run = 0; run < 5; run++)
            {
                layer.Forward(x, shape);
                var dx = layer.Backward(upstream);
                var (dk, db) = layer.GetGradients();
                if (run == 0)
                {
                    (firstInput, firstKernel, firstBias) = (dx, dk, db);
                    continue;
                }

                Assert.Multiple(() =>
                {
                    Assert.That(Bits(dx), Is.EqualTo(Bits(firstInput!)), $"input gradient, run {run}");
                    Assert.That(Bits(dk), Is.EqualTo(Bits(firstKernel!)), $"kernel gradient, run {run}");
                    Assert.That(Bits(db!), Is.EqualTo(Bits(firstBias!)), $"bias gradient, run {run}");
                });
            }
        }
    }

    [Test]
    public void A_non_trainable_layer_returns_the_input_gradient_and_computes_no_weight_gradients()
    {
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(2, 3) { Strides = 2, Trainable = false };
        var (layer, x, shape) = Layers.Random(device, options, new TensorShape(1, 3, 3, 2), seed: 3);
        using (layer)
        {
            var y = layer.Forward(x, shape);
            var dx = layer.Backward(Enumerable.Repeat(1f, y.Length).ToArray());
            Assert.That(dx.Any(v => v != 0f), "input gradient computed");
            var ex = Assert.Throws<InvalidOperationException>(() => layer.GetGradients());
            Assert.That(ex!.Message, Does.Contain("no weight gradients"));
        }
    }

    [Test]
    public void Accumulate_adds_the_weight_gradients_of_successive_backward_passes()
    {
        var device = TestAccelerators.Any();
        var (layer, x, shape) = Layers.Random(device, new Conv2DTransposeOptions(3, 2) { Strides = 2 }, new TensorShape(2, 3, 3, 2), seed: 5);
        using (layer)
        {
            var upstream = RandomTensors.Uniform(new Random(6), layer.ComputeOutputShape(shape).ElementCount);
            layer.Forward(x, shape);
            layer.Backward(upstream);
            var (once, onceBias) = layer.GetGradients();
            layer.Backward(upstream, new float[x.Length], accumulate: true);
            var (twice, twiceBias) = layer.GetGradients();
            Assert.That(twice, Is.EqualTo(once.Select(v => 2 * v).ToArray()).Within(1e-5));
            Assert.That(twiceBias, Is.EqualTo(onceBias!.Select(v => 2 * v).ToArray()).Within(1e-5));
        }
    }

    [Test]
    public void Backward_without_a_forward_call_is_refused()
    {
        var device = TestAccelerators.Any();
        using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(2, 2));
        var ex = Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[8]));
        Assert.That(ex!.Message, Does.Contain("Forward"));

        layer.Predict(new float[12], new TensorShape(1, 2, 2, 3));
        Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[2 * 3 * 3]), "Predict keeps nothing for Backward");
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
