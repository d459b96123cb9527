using System;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Activations;

/// <summary>Built-in activations against double-precision definitions, name lookup, and user-written activations compiled into the GPU programs.</summary>
public sealed class ActivationTests
{
    private static readonly double[] Points = [-20, -7.5, -3.2, -2.5, -1, -0.3, -1e-3, 0, 1e-3, 0.25, 0.9, 2, 3.1, 5.5, 6, 7, 20];

    [TestCaseSource(typeof(ReferenceActivations), nameof(ReferenceActivations.Names))]
    public void Host_evaluation_matches_the_definition(string name)
    {
        var activation = Activation.FromName(name);
        foreach (double x in Points)
        {
            double expected = ReferenceActivations.Apply(name, x);
            Assert.That(activation.Apply((float)x), Is.EqualTo(expected).Within(2e-6 + (2e-6 * Math.Abs(expected))), $"{name}({x})");
            double slope = ReferenceActivations.Derivative(name, x);
            Assert.That(activation.Derivative((float)x), Is.EqualTo(slope).Within(1e-5 + (1e-5 * Math.Abs(slope))), $"{name}'({x})");
        }
    }

    [TestCase("hard_sigmoid", "HARD_SIGMOID", "hardSigmoid", "HardSigmoid")]
    [TestCase("leaky_relu", "leakyRelu", "LeakyReLU", "LEAKY_RELU")]
    [TestCase("swish", "silu", "Swish", "SILU")]
    [TestCase("gelu_new", "geluNew", "gelu_approximate", "GELU_NEW")]
    public void Names_are_found_in_any_case_and_spelling(string canonical, string a, string b, string c)
    {
        var expected = Activation.FromName(canonical);
        foreach (string name in new[] { a, b, c })
        {
            Assert.That(Activation.FromName(name).Name, Is.EqualTo(expected.Name), name);
        }
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("linear")]
    [TestCase("None")]
    public void No_activation_is_linear(string? name) => Assert.That(Activation.FromName(name).IsLinear, Is.True);

    [TestCase("relu7")]
    [TestCase("")]
    public void Unknown_names_are_refused(string name)
    {
        if (name.Length == 0)
        {
            Assert.That(Activation.FromName(name).IsLinear, "empty means linear");
            return;
        }

        var ex = Assert.Throws<ArgumentException>(() => Activation.FromName(name));
        Assert.That(ex!.Message, Does.Contain(name));
    }

    [TestCase("softmax", false)]
    [TestCase("logSoftmax", true)]
    [TestCase("LOG_SOFTMAX", true)]
    public void Softmax_normalises_rows_and_is_not_elementwise(string name, bool log)
    {
        var activation = Activation.FromName(name);
        Assert.That(activation.IsElementwise, Is.False);
        Assert.Throws<InvalidOperationException>(() => activation.Apply(1f));
        float[] rows = [1f, 2f, 3f, -1f, 0f, 1000f];
        activation.ApplyRows(rows, 3);

        // Row 1: softmax(1, 2, 3) = e^(x - 3) / s with s = e^-2 + e^-1 + 1. Row 2: 1000 dominates.
        double s = Math.Exp(-2) + Math.Exp(-1) + 1;
        double[] expected = log
            ? [-2 - Math.Log(s), -1 - Math.Log(s), -Math.Log(s), -1001, -1000, 0]
            : [Math.Exp(-2) / s, Math.Exp(-1) / s, 1 / s, 0, 0, 1];
        Tolerance.AssertClose(rows, expected, name, 1e-6, 1e-6);
    }

    [Test]
    public void Keras3_hard_sigmoid_is_available_with_its_slope() =>
        Assert.That(Activation.HardSigmoidWith(1f / 6).Apply(1.5f), Is.EqualTo((1.5 / 6) + 0.5).Within(1e-7));

    [TestCase(float.NaN)]
    public void NaN_propagates_through_every_activation(float nan)
    {
        foreach (string name in ReferenceActivations.Names)
        {
            Assert.That(float.IsNaN(Activation.FromName(name).Apply(nan)), $"{name}(NaN)");
        }
    }

    [Test]
    public void Relu_maps_negative_infinity_to_zero() => Assert.That(Activation.Relu.Apply(float.NegativeInfinity), Is.Zero);

    /// <summary>A user-written activation with a parameter: <c>y = x^3 * scale</c>.</summary>
    public readonly struct ScaledCube(float scale) : IActivationFunction
    {
        private readonly float scale = scale;

        public float Apply(float x) => scale * x * x * x;

        public float Derivative(float x, float y) => 3f * scale * x * x;
    }

    [Test]
    public void A_custom_struct_activation_runs_inside_the_kernels([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        var options = new Conv2DTransposeOptions(3, 2) { Strides = 2, Activation = Activation.Custom("scaled_cube", new ScaledCube(0.5f)) };
        using var layer = new Conv2DTranspose(device, options);
        var shape = new TensorShape(2, 3, 4, 2);
        var random = new Random(7);
        var x = RandomTensors.Uniform(random, shape.ElementCount);
        var kernel = RandomTensors.Uniform(random, 2 * 2 * 3 * 2);
        var bias = RandomTensors.Uniform(random, 3);
        var upstream = RandomTensors.Uniform(random, layer.ComputeOutputShape(shape).ElementCount);
        layer.SetWeights(kernel, bias);

        var geometry = layer.GetGeometry(shape);
        var z = new ReferenceConv2DTranspose(geometry).PreActivation(x, kernel, bias);
        var output = layer.Forward(x, shape);
        Tolerance.AssertClose(output, z.Select(v => 0.5 * v * v * v).ToArray(), "output");

        var gradInput = layer.Backward(upstream);
        // With a linear-activation reference, the custom derivative enters through the upstream gradient.
        var scaledUpstream = upstream.Select((u, i) => (float)(u * 1.5 * z[i] * z[i])).ToArray();
        var expected = new ReferenceConv2DTranspose(geometry).Gradients(x, kernel, bias, "linear", scaledUpstream);
        Tolerance.AssertClose(gradInput, expected.Input, "grad_input", 1e-4, 1e-4);
    }
}
