using System;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Regularizers;

/// <summary>Regularizer penalties and their gradient contributions against Keras's formulas.</summary>
public sealed class RegularizerTests
{
    private static readonly float[] Weights = [0.5f, -1.5f, 0f, 2f, -0.25f];

    [Test]
    public void Penalties_follow_Keras()
    {
        // Keras: L1 -> l1 * sum(|w|); L2 -> l2 * sum(w^2); L1L2 -> both.
        double abs = 0.5 + 1.5 + 0 + 2 + 0.25, squares = 0.25 + 2.25 + 0 + 4 + 0.0625;
        Assert.Multiple(() =>
        {
            Assert.That(Regularizer.L1Penalty().Penalty(Weights), Is.EqualTo(0.01 * abs).Within(1e-9));
            Assert.That(Regularizer.L2Penalty(0.3f).Penalty(Weights), Is.EqualTo(0.3f * squares).Within(1e-7));
            Assert.That(Regularizer.L1L2(0.1f, 0.2f).Penalty(Weights), Is.EqualTo((0.1f * abs) + (0.2f * squares)).Within(1e-7));
            Assert.That(Regularizer.L1L2().Penalty(Weights), Is.Zero, "Keras's L1L2 defaults are 0 and 0");
        });
    }

    [TestCase("l1", 0.01f, 0f)]
    [TestCase("L2", 0f, 0.01f)]
    [TestCase("l1_l2", 0f, 0f)]
    [TestCase("L1L2", 0f, 0f)]
    public void Keras_identifiers_give_Keras_defaults(string name, float l1, float l2)
    {
        var regularizer = Regularizer.FromName(name);
        Assert.That((regularizer.L1, regularizer.L2), Is.EqualTo((l1, l2)));
        Assert.That(Assert.Throws<System.ArgumentException>(() => Regularizer.FromName("l3"))!.Message, Does.Contain("l3"));
    }

    [Test]
    public void Negative_factors_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Regularizer.L1L2(-0.1f, 0f));

    [Test]
    public void Weight_regularizers_add_l1_sign_plus_2_l2_w_to_the_weight_gradients(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        var plainOptions = new Conv2DTransposeOptions(3, 3) { Strides = 2, Padding = Padding.Same };
        var regularized = plainOptions with { KernelRegularizer = Regularizer.L1L2(0.03f, 0.2f), BiasRegularizer = Regularizer.L2Penalty(0.5f) };
        var (plain, x, shape) = Layers.Random(device, plainOptions, new TensorShape(2, 3, 3, 2), seed: 21);
        var (penalized, _, _) = Layers.Random(device, regularized, shape, seed: 21);
        using (plain)
        using (penalized)
        {
            var upstream = RandomTensors.Uniform(new Random(22), plain.ComputeOutputShape(shape).ElementCount);
            foreach (var layer in new[] { plain, penalized })
            {
                layer.Forward(x, shape);
                layer.Backward(upstream);
            }

            var (kernel, bias) = plain.GetWeights();
            var (dataKernel, dataBias) = plain.GetGradients();
            var (dk, db) = penalized.GetGradients();
            var expectedKernel = dataKernel.Select((g, i) => g + (0.03 * Math.Sign(kernel[i])) + (2 * 0.2 * kernel[i])).ToArray();
            var expectedBias = dataBias!.Select((g, i) => g + (2 * 0.5 * bias![i])).ToArray();
            Tolerance.AssertClose(dk, expectedKernel, "kernel gradient", 1e-5, 1e-5);
            Tolerance.AssertClose(db, expectedBias, "bias gradient", 1e-5, 1e-5);

            double keras = (0.03f * kernel.Sum(w => (double)Math.Abs(w))) + (0.2f * kernel.Sum(w => (double)w * w)) + (0.5f * bias!.Sum(w => (double)w * w));
            Assert.That(penalized.RegularizationLoss(), Is.EqualTo(keras).Within(1e-6 * keras));
        }
    }

    [Test]
    public void The_activity_regularizer_penalises_the_output_divided_by_the_batch(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        var options = new Conv2DTransposeOptions(2, 2) { Strides = 2, Activation = Activation.Tanh };
        var activity = Regularizer.L1L2(0.05f, 0.1f);
        var (plain, x, shape) = Layers.Random(device, options, new TensorShape(3, 2, 3, 2), seed: 31);
        var (penalized, _, _) = Layers.Random(device, options with { ActivityRegularizer = activity }, shape, seed: 31);
        using (plain)
        using (penalized)
        {
            var upstream = RandomTensors.Uniform(new Random(32), plain.ComputeOutputShape(shape).ElementCount);
            var y = penalized.Forward(x, shape);
            var dx = penalized.Backward(upstream);

            // TensorFlow's layers add activity_regularizer(y) / batch to the loss, so the output
            // gradient grows by (l1 * sign(y) + 2 * l2 * y) / batch.
            const int batch = 3;
            var adjusted = upstream.Select((u, i) => (float)(u + (((0.05 * Math.Sign(y[i])) + (2 * 0.1 * y[i])) / batch))).ToArray();
            plain.Forward(x, shape);
            var expected = plain.Backward(adjusted);
            Tolerance.AssertClose(dx, expected.Select(v => (double)v).ToArray(), "input gradient", 1e-5, 1e-5);
            Tolerance.AssertClose(penalized.GetGradients().Kernel, plain.GetGradients().Kernel.Select(v => (double)v).ToArray(), "kernel gradient", 1e-5, 1e-5);

            double penalty = ((0.05f * y.Sum(v => (double)Math.Abs(v))) + (0.1f * y.Sum(v => (double)v * v))) / batch;
            Assert.That(penalized.RegularizationLoss(), Is.EqualTo(penalty).Within(1e-6 * penalty));
        }
    }
}
