using System;
using System.Linq;
using ILGpuDeconv.Optimizers;
using ILGpuDeconv.Runtime;
using ILGpuDeconv.Tensors;
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
        new("zero dimension", (l, _) => l.Forward(Array.Empty<float>(), new TensorShape(0, 3, 4, 3)), typeof(ArgumentException), ["at least 1", "[0, 3, 4, 3]"]),
        new("optimizer step with a null layer", (l, _) => new Sgd().Step(l, null!), typeof(ArgumentNullException), ["layers"]),
        new("negative learning rate", (_, _) => _ = new Adam(-0.1f), typeof(ArgumentOutOfRangeException), ["learning_rate"]),
    ];

    [TestCaseSource(nameof(BadCalls))]
    public void Bad_input_is_refused_and_the_layer_is_left_as_it_was(BadCall bad)
    {
        var device = TestAccelerators.Any();
        var (layer, x, _) = Layers.Random(device, Options, Shape, seed: 81);
        using (layer)
        {
            var upstream = RandomTensors.Uniform(new Random(82), layer.ComputeOutputShape(Shape).ElementCount);
            var optimizer = new Adam(0.01f);
            layer.Forward(x, Shape);
            layer.Backward(upstream);
            optimizer.Step(layer);
            layer.Forward(x, Shape);
            layer.Backward(upstream);
            var weights = layer.GetWeights();
            var gradients = layer.GetGradients();
            var expectedOutput = layer.Predict(x, Shape);

            var ex = Assert.Catch(() => bad.Call(layer, device));
            Assert.That(ex, Is.TypeOf(bad.Exception), ex?.ToString());
            foreach (string fragment in bad.Fragments)
            {
                Assert.That(ex!.Message, Does.Contain(fragment));
            }

            // Nothing changed, and the layer keeps working: the next optimizer step equals one on an untouched twin.
            Assert.Multiple(() =>
            {
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(weights.Kernel));
                Assert.That(layer.GetWeights().Bias, Is.EqualTo(weights.Bias));
                Assert.That(layer.GetGradients().Kernel, Is.EqualTo(gradients.Kernel));
                Assert.That(layer.GetGradients().Bias, Is.EqualTo(gradients.Bias));
                Assert.That(layer.Predict(x, Shape), Is.EqualTo(expectedOutput));
            });
            layer.Forward(x, Shape);
            layer.Backward(upstream);
            optimizer.Step(layer);
            Assert.That(optimizer.Iterations, Is.EqualTo(2));
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
