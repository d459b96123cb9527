using System;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>A null array where values belong is an <see cref="ArgumentNullException"/> naming it (C# hands it over as an empty span, once reported as "holds 0 values").</summary>
public sealed class NullArgumentTests
{
    private static readonly TensorShape Shape = new(1, 2, 2, 1);

    [Test]
    public void Every_host_call_names_a_null_array()
    {
        var device = TestAccelerators.Any();
        var (layer, x, _) = Layers.Random(device, new Conv2DTransposeOptions(2, 2), Shape, seed: 5);
        using (layer)
        {
            float[] none = null!;
            var y = layer.Forward(x, Shape);
            using var tensor = DeviceTensor.Allocate(device, Shape);
            var calls = new (string Name, Action Call)[]
            {
                ("input", () => layer.Forward(none, Shape)),
                ("input", () => layer.Predict(none, Shape)),
                ("output", () => layer.Forward(x, Shape, none)),
                ("outputGradient", () => layer.Backward(none)),
                ("inputGradient", () => layer.Backward(new float[y.Length], none)),
                ("kernel", () => layer.SetWeights(none, new float[2])),
                ("bias", () => layer.SetWeights(new float[8], none)),
                ("data", () => DeviceTensor.FromHost(device, none, Shape).Dispose()),
                ("source", () => tensor.CopyFromHost(none)),
                ("destination", () => tensor.CopyToHost(none)),
            };
            var before = layer.GetWeights();
            Assert.Multiple(() =>
            {
                foreach (var (name, call) in calls)
                {
                    var ex = Assert.Throws<ArgumentNullException>(() => call(), name);
                    Assert.That(ex!.ParamName, Is.EqualTo(name));
                }

                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(before.Kernel), "the refused calls changed nothing");
                Assert.That(() => layer.SetWeights(new float[8], Array.Empty<float>()), Throws.ArgumentException.And.Not.TypeOf<ArgumentNullException>(), "an empty array is not null");
            });
        }
    }
}
