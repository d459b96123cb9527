using System;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Every class of bad input is refused with a specific exception naming the argument and the shapes;
/// afterwards the weights, gradients and optimizer state are as they were and the next call works.
/// </summary>
public sealed class BadInputTests
{
    private static readonly TensorShape Shape = new(2, 3, 4, 3);                 // NHWC, 3 channels
    private static readonly Conv2DTransposeOptions Options = new(4, 3) { Strides = 2, Padding = Padding.Same };

    /// <summary>A bad call, the exception it must raise, and text its message must contain.</summary>
    public sealed record BadCall(string Name, Action<Conv2DTranspose, DeconvDevice> Call, Type Exception, string[] Fragments)
    {
        public override string ToString() => Name;
    }

    public static BadCall[] BadCalls =>
    [
        new("wrong rank", (l, _) => l.Forward(new float[36], new TensorShape(3, 4, 3)), typeof(ArgumentException), ["inputShape", "rank 4", "[3, 4, 3]"]),
        new("wrong channel count", (l, _) => l.Forward(new float[2 * 3 * 4 * 5], new TensorShape(2, 3, 4, 5)), typeof(ArgumentException), ["5 channels", "built for 3", "[3, 3, 4, 3]"]),
        new("host input shorter than its shape", (l, _) => l.Forward(new float[10], Shape), typeof(ArgumentException), ["input", "10", "[2, 3, 4, 3]"]),
        new("host output of the wrong length", (l, _) => l.Forward(new float[Shape.ElementCount], Shape, new float[5]), typeof(ArgumentException), ["output", "[2, 6, 8, 4]"]),
        new("null shape", (l, _) => l.Forward(new float[1], null!), typeof(ArgumentNullException), ["inputShape"]),
        new("null device tensor", (l, _) => l.Forward((DeviceTensor)null!), typeof(ArgumentNullException), ["input"]),
        new("device output of the wrong shape", (l, d) =>
        {
            using var x = DeviceTensor.Allocate(d, Shape);
            using var y = DeviceTensor.Allocate(d, new TensorShape(2, 6, 8, 5));
            l.Forward(x, y);
        }, typeof(ArgumentException), ["output", "[2, 6, 8, 5]", "[2, 6, 8, 4]"]),
        new("same tensor as input and output", (l, d) =>
        {
            using var x = DeviceTensor.Allocate(d, Shape);
            l.Forward(x, x);
        }, typeof(ArgumentException), ["different tensors"]),
        new("disposed input tensor", (l, d) =>
        {
            var x = DeviceTensor.Allocate(d, Shape);
            x.Dispose();
            using var y = DeviceTensor.Allocate(d, new TensorShape(2, 6, 8, 4));
            l.Forward(x, y);
        }, typeof(ObjectDisposedException), ["DeviceTensor"]),
        new("TensorFlow-refused size", (_, d) =>
        {
            // Even kernel, same padding, output_padding 0: the output maps back to 2 rows, not 3.
            using var other = new Conv2DTranspose(d, new Conv2DTransposeOptions(4, 4) { Strides = 2, Padding = Padding.Same, OutputPadding = 0 });
            other.Forward(new float[Shape.ElementCount], Shape);
        }, typeof(ArgumentException), ["TensorFlow refuses", "[2, 3, 4, 3]", "output_padding=(0, 0)"]),
        new("output gradient of the wrong length", (l, _) => l.Backward(new float[7]), typeof(ArgumentException), ["outputGradient", "7", "[2, 6, 8, 4]"]),
        new("input gradient of the wrong length", (l, _) => l.Backward(new float[2 * 6 * 8 * 4], new float[3]), typeof(ArgumentException), ["inputGradient", "[2, 3, 4, 3]"]),
        new("kernel of the wrong size", (l, _) => l.SetWeights(new float[3 * 3 * 4 * 2], new float[4]), typeof(ArgumentException), ["kernel", "[3, 3, 4, 3]"]),
        new("bias of the wrong size", (l, _) => l.SetWeights(new float[3 * 3 * 4 * 3], new float[5]), typeof(ArgumentException), ["bias", "5", "[4]"]),
        new("index space beyond 32 bits", (l, _) => l.ComputeOutputShape(new TensorShape(4096, 512, 512, 3)), typeof(ArgumentException), ["32-bit", "[4096, 512, 512, 3]"]),
        new("empty host input", (l, _) => l.Forward(Array.Empty<float>(), Shape), typeof(ArgumentException), ["input", "0", "[2, 3, 4, 3]"]),
        new("empty host output gradient", (l, _) => l.Backward(Array.Empty<float>()), typeof(ArgumentException), ["outputGradient", "0", "[2, 6, 8, 4]"]),
        new("device output gradient of the wrong shape", (l, d) =>
        {
            using var dy = DeviceTensor.Allocate(d, new TensorShape(2, 6, 8, 3));
            l.Backward(dy, null);
        }, typeof(ArgumentException), ["outputGradient", "[2, 6, 8, 3]", "[2, 6, 8, 4]"]),
        new("device tensor from another device", (l, d) =>
        {
            using var other = DeconvDevice.Create(AcceleratorKind.Cpu);
            using var x = DeviceTensor.Allocate(other, Shape);
            using var y = DeviceTensor.Allocate(d, new TensorShape(2, 6, 8, 4));
            l.Forward(x, y);
        }, typeof(ArgumentException), ["input", "another device"]),
        new("inference input of the wrong length", (l, _) => l.Predict(new float[35], Shape), typeof(ArgumentException), ["input", "35", "[2, 3, 4, 3]"]),
        new("optimizer step with a null layer", (l, _) => new Sgd().Step(l, null!), typeof(ArgumentNullException), ["layers"]),
        new("negative learning rate", (_, _) => _ = new Adam(-0.1f), typeof(ArgumentOutOfRangeException), ["learning_rate"]),
    ];

    [TestCaseSource(nameof(BadCalls))]
    public void Bad_input_is_refused_and_the_layer_is_left_as_it_was(BadCall bad)
    {
        // Two layers with the same weights and data go through the same training steps; the refused call
        // comes between a Forward and its Backward, on one of them only.
        var device = TestAccelerators.Any();
        var (layer, x, _) = Layers.Random(device, Options, Shape, seed: 81);
        var (twin, _, _) = Layers.Random(device, Options, Shape, seed: 81);
        using (layer)
        using (twin)
        {
            var upstream = RandomTensors.Uniform(new Random(82), layer.ComputeOutputShape(Shape).ElementCount);
            var optimizer = new Adam(0.01f);
            var twinOptimizer = new Adam(0.01f);
            foreach (var (l, o) in new[] { (layer, optimizer), (twin, twinOptimizer) })
            {
                l.Forward(x, Shape);
                l.Backward(upstream);
                o.Step(l);
                l.Forward(x, Shape);
            }

            var weights = layer.GetWeights();
            var gradients = layer.GetGradients();

            var ex = Assert.Catch(() => bad.Call(layer, device));
            Assert.That(ex, Is.TypeOf(bad.Exception), ex?.ToString());
            foreach (string fragment in bad.Fragments)
            {
                Assert.That(ex!.Message, Does.Contain(fragment));
            }

            // Nothing changed: weights and gradients bit for bit; then the Backward of the Forward before the
            // refused call, and the next step, equal the twin's bit for bit (so the saved forward state survived).
            Assert.Multiple(() =>
            {
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(weights.Kernel));
                Assert.That(layer.GetWeights().Bias, Is.EqualTo(weights.Bias));
                Assert.That(layer.GetGradients().Kernel, Is.EqualTo(gradients.Kernel));
                Assert.That(layer.GetGradients().Bias, Is.EqualTo(gradients.Bias));
            });
            Assert.That(layer.Backward(upstream), Is.EqualTo(twin.Backward(upstream)), "input gradient");
            Assert.That(layer.GetGradients().Kernel, Is.EqualTo(twin.GetGradients().Kernel), "kernel gradient");
            optimizer.Step(layer);
            twinOptimizer.Step(twin);
            Assert.Multiple(() =>
            {
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(twin.GetWeights().Kernel), "kernel after the next step");
                Assert.That(layer.GetWeights().Bias, Is.EqualTo(twin.GetWeights().Bias), "bias after the next step");
                Assert.That(layer.Predict(x, Shape), Is.EqualTo(twin.Predict(x, Shape)), "output after the next step");
                Assert.That(optimizer.Iterations, Is.EqualTo(2));
            });
        }
    }

    [Test]
    public void Every_refused_option_names_its_argument()
    {
        // The option table lives in Conv2DTransposeOptionsTests; here, construction never leaves a half-made layer behind.
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(2, 2) { Name = "half-made-" + Guid.NewGuid().ToString("N"), Strides = 2, OutputPadding = 3 };
        Assert.Throws<ArgumentException>(() => new Conv2DTranspose(device, options).Dispose());
        using var ok = new Conv2DTranspose(device, options with { OutputPadding = 1 });
        Assert.That(ok.Name, Is.EqualTo(options.Name), "the name was not claimed by the refused construction");
    }

    [Test]
    public void NaN_and_infinity_in_the_input_propagate_like_the_reference()
    {
        var device = TestAccelerators.Any();
        var (layer, x, _) = Layers.Random(device, Options, Shape, seed: 83);
        using (layer)
        {
            x[5] = float.NaN;
            x[17] = float.PositiveInfinity;
            x[40] = float.NegativeInfinity;
            var (kernel, bias) = layer.GetWeights();
            var y = layer.Forward(x, Shape);
            var expected = new Reference.ReferenceConv2DTranspose(layer.GetGeometry(Shape)).Forward(x, kernel, bias, "linear");
            Assert.That(expected.Count(double.IsNaN), Is.GreaterThan(0), "the data does produce NaN");
            Assert.That(expected.Count(double.IsInfinity), Is.GreaterThan(0), "the data does produce infinities");
            Tolerance.AssertClose(y, expected, "output");
            for (int i = 0; i < y.Length; i++)
            {
                if (double.IsInfinity(expected[i]))
                {
                    Assert.That((double)y[i], Is.EqualTo(expected[i]), $"output[{i}]");
                }
            }
        }
    }
}
