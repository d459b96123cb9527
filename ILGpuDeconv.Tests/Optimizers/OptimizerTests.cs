using System;
using System.Collections.Generic;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Optimizers;

/// <summary>Optimizer updates against Keras 3's update rules, and training end to end.</summary>
public sealed class OptimizerTests
{
    /// <summary>Each rule on each accelerator: a missing accelerator is reported as ignored, never as passed.</summary>
    public static IEnumerable<TestCaseData> Rules() =>
        from r in new (string Name, Func<Optimizer> Create, string Rule)[]
        {
            ("SGD", () => new Sgd(0.1f), "sgd"),
            ("SGD with momentum", () => new Sgd(0.1f, momentum: 0.9f), "momentum"),
            ("SGD with Nesterov momentum", () => new Sgd(0.1f, momentum: 0.9f, nesterov: true), "nesterov"),
            ("Adam", () => new Adam(0.01f), "adam"),
            ("Adam with other betas and epsilon", () => new Adam(0.02f, beta1: 0.5f, beta2: 0.9f, epsilon: 1e-3f), "adam-0.5-0.9-1e-3"),
        }
        from kind in TestAccelerators.Tested
        select new TestCaseData(r.Create, r.Rule, kind).SetName($"{r.Name} on {kind}");

    [TestCaseSource(nameof(Rules))]
    public void Three_steps_follow_the_Keras_update_rule(Func<Optimizer> create, string rule, AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        {
            var optimizer = create();
            var (layer, x, shape) = Layers.Random(device, new Conv2DTransposeOptions(2, 2) { Strides = 2 }, new TensorShape(2, 2, 2, 3), seed: 51);
            using (layer)
            {
                var upstream = RandomTensors.Uniform(new Random(52), layer.ComputeOutputShape(shape).ElementCount);
                var (w, b) = layer.GetWeights();
                var expected = w.Concat(b!).Select(v => (double)v).ToArray();
                var slot1 = new double[expected.Length];
                var slot2 = new double[expected.Length];
                for (int step = 1; step <= 3; step++)
                {
                    layer.Forward(x, shape);
                    layer.Backward(upstream);
                    var (gk, gb) = layer.GetGradients();
                    var g = gk.Concat(gb!).ToArray();
                    optimizer.Step(layer);
                    for (int i = 0; i < expected.Length; i++)
                    {
                        Apply(rule, step, ref expected[i], g[i], ref slot1[i], ref slot2[i]);
                    }

                    var (nk, nb) = layer.GetWeights();
                    Tolerance.AssertClose(nk.Concat(nb!).ToArray(), expected, $"{rule} step {step} on {device.Kind}", 1e-6, 1e-5);
                }

                Assert.That(optimizer.Iterations, Is.EqualTo(3));
            }
        }
    }

    /// <summary>Keras 3's update rules, written out.</summary>
    private static void Apply(string rule, int step, ref double w, double g, ref double m, ref double v)
    {
        switch (rule)
        {
            case "sgd":
                w -= 0.1 * g;
                break;
            case "momentum":
                m = (0.9 * m) - (0.1 * g);
                w += m;
                break;
            case "nesterov":
                m = (0.9 * m) - (0.1 * g);
                w += (0.9 * m) - (0.1 * g);
                break;
            case "adam":
                Adam(0.01, 0.9, 0.999, 1e-7, step, ref w, g, ref m, ref v);
                break;
            default: // "adam-0.5-0.9-1e-3"
                Adam(0.02, 0.5, 0.9, 1e-3, step, ref w, g, ref m, ref v);
                break;
        }
    }

    /// <summary>Keras 3's Adam step (with its bias-corrected rate), in double.</summary>
    private static void Adam(double lr, double beta1, double beta2, double epsilon, int step, ref double w, double g, ref double m, ref double v)
    {
        double alpha = lr * Math.Sqrt(1 - Math.Pow(beta2, step)) / (1 - Math.Pow(beta1, step));
        m += (g - m) * (1 - beta1);
        v += ((g * g) - v) * (1 - beta2);
        w -= m * alpha / (Math.Sqrt(v) + epsilon);
    }

    [Test]
    public void A_step_before_any_backward_pass_is_refused_and_changes_nothing()
    {
        var device = TestAccelerators.Any();
        var (layer, _, _) = Layers.Random(device, new Conv2DTransposeOptions(2, 2), new TensorShape(1, 2, 2, 1), seed: 53);
        using (layer)
        {
            var before = layer.GetWeights().Kernel;
            var optimizer = new Sgd();
            Assert.Throws<InvalidOperationException>(() => optimizer.Step(layer));
            Assert.Multiple(() =>
            {
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(before));
                Assert.That(optimizer.Iterations, Is.Zero);
            });
        }
    }

    [Test]
    public void Invalid_hyperparameters_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(-1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(0.1f, momentum: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(epsilon: 0f));
    }

    /// <summary>Learns a known kernel and bias from what a teacher layer makes of random inputs (mean squared error).</summary>
    [TestCase("sgd", 3000)]
    [TestCase("adam", 1500)]
    public void Training_recovers_a_known_transposed_convolution(string optimizerName, int maxSteps)
    {
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(3, 3) { Strides = 2, Padding = Padding.Same };
        var shape = new TensorShape(8, 4, 4, 2);
        var random = new Random(61);
        var x = RandomTensors.Uniform(random, shape.ElementCount);
        using var teacher = new Conv2DTranspose(device, options);
        teacher.SetWeights(RandomTensors.Uniform(random, 3 * 3 * 3 * 2), RandomTensors.Uniform(random, 3));
        var target = teacher.Predict(x, shape);

        using var student = new Conv2DTranspose(device, options with { KernelInitializer = Initializer.GlorotUniform(seed: 62) });
        Optimizer optimizer = optimizerName == "sgd" ? new Sgd(0.05f, momentum: 0.9f) : new Adam(0.02f);
        double Loss(float[] y) => y.Select((v, i) => (double)(v - target[i]) * (v - target[i])).Sum() / y.Length;

        double initial = Loss(student.Forward(x, shape));
        double loss = initial;
        int steps = 0;
        var gradient = new float[target.Length];
        while (steps < maxSteps && loss > 1e-5 * initial)
        {
            var y = student.Forward(x, shape);
            loss = Loss(y);
            for (int i = 0; i < y.Length; i++)
            {
                gradient[i] = 2f * (y[i] - target[i]) / y.Length;
            }

            student.Backward(gradient);
            optimizer.Step(student);
            steps++;
        }

        TestContext.Out.WriteLine($"{optimizerName}: loss {initial:G3} -> {loss:G3} in {steps} steps");
        Assert.That(loss, Is.LessThan(1e-4 * initial), $"after {steps} steps");
        var (learned, _) = student.GetWeights();
        Tolerance.AssertClose(learned, teacher.GetWeights().Kernel.Select(v => (double)v).ToArray(), "learned kernel", 1e-2, 1e-2);
    }
}
