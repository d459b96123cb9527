using System;
using ILGpuDeconv.Passes;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Passes;

/// <summary>
/// What the passes own: each keeps its own weight layout and must refresh it when the weights change
/// (a stale layout would compute with the old kernel), and the last axis softmax runs along.
/// </summary>
public sealed class PassTests
{
    [Test]
    public void Both_passes_refresh_their_weight_layouts_after_the_weights_change(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(5, 3) { Strides = 2, Activation = Activation.Tanh });
        var shape = new TensorShape(2, 4, 3, 6);
        var random = new Random(3);
        var x = RandomTensors.Uniform(random, shape.ElementCount);
        var reference = new ReferenceConv2DTranspose(layer.GetGeometry(shape));
        foreach (int round in new[] { 0, 1 })
        {
            // New weights each round; the passes ran with the first ones before the second round.
            var kernel = RandomTensors.Uniform(random, 3 * 3 * 5 * 6);
            var bias = RandomTensors.Uniform(random, 5);
            layer.SetWeights(kernel, bias);
            var upstream = RandomTensors.Uniform(random, layer.ComputeOutputShape(shape).ElementCount);
            var output = layer.Forward(x, shape);
            var inputGradient = layer.Backward(upstream);
            Tolerance.AssertClose(output, reference.Forward(x, kernel, bias, "tanh"), $"output, round {round}");
            Tolerance.AssertClose(inputGradient, reference.Gradients(x, kernel, bias, "tanh", upstream).Input, $"input gradient, round {round}");
        }
    }

    [Test]
    public void The_last_axis_is_the_filters_for_channels_last_and_the_width_for_channels_first()
    {
        var last = Conv2DTransposeGeometry.Create(new Conv2DTransposeOptions(7, 2) { Strides = 2 }, new TensorShape(3, 4, 5, 6));
        Assert.That(ForwardPass.LastAxisOf(last), Is.EqualTo(new LastAxis(3 * 8 * 10, 7)));
        var first = Conv2DTransposeGeometry.Create(
            new Conv2DTransposeOptions(7, 2) { Strides = 2, DataFormat = DataFormat.ChannelsFirst }, new TensorShape(3, 6, 4, 5));
        Assert.That(ForwardPass.LastAxisOf(first), Is.EqualTo(new LastAxis(3 * 7 * 8, 10)));
    }
}
