using System;
using System.Numerics.Tensors;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;
using Shape = ILGpuDeconv.TensorShape;

namespace ILGpuDeconv.Tests;

/// <summary>The layer on System.Numerics.Tensors: equal to the array API bit for bit, strided views read and written, shapes refused by name.</summary>
public sealed class Conv2DTransposeTensorsTests
{
    private static Conv2DTranspose Layer(DataFormat format, string name) =>
        new(TestAccelerators.Any(), new Conv2DTransposeOptions(3, (3, 2)) { Strides = 2, Padding = Padding.Same, DataFormat = format, Name = name });

    [TestCase(DataFormat.ChannelsLast)]
    [TestCase(DataFormat.ChannelsFirst)]
    public void Tensor_calls_equal_the_array_calls_bit_for_bit(DataFormat format)
    {
        var shape = format == DataFormat.ChannelsLast ? new Shape(2, 4, 5, 3) : new Shape(2, 3, 4, 5);
        var x = RandomTensors.Uniform(new Random(3), shape.ElementCount);
        using var layer = Layer(format, "tensors_" + format);
        var fromArray = layer.Forward(x, shape);
        var dy = RandomTensors.Uniform(new Random(4), fromArray.Length);
        var dxArray = layer.Backward(dy);

        var y = layer.Forward(Tensor.Create(x, [shape[0], shape[1], shape[2], shape[3]]));
        var outputShape = layer.ComputeOutputShape(shape);
        var dx = layer.Backward(Tensor.Create(dy, [outputShape[0], outputShape[1], outputShape[2], outputShape[3]]));
        Assert.Multiple(() =>
        {
            Assert.That(y.Lengths.ToArray(), Is.EqualTo(new nint[] { outputShape[0], outputShape[1], outputShape[2], outputShape[3] }));
            Assert.That(Flat(y), Is.EqualTo(fromArray));
            Assert.That(Flat(dx), Is.EqualTo(dxArray));
            Assert.That(Flat(layer.Predict(Tensor.Create(x, [shape[0], shape[1], shape[2], shape[3]]))), Is.EqualTo(fromArray));
        });
    }

    [Test]
    public void A_strided_view_is_read_and_a_strided_span_written()
    {
        // NCHW storage viewed as NHWC through strides, for a channels_last layer.
        int n = 2, c = 3, h = 4, w = 5;
        var nchw = RandomTensors.Uniform(new Random(5), n * c * h * w);
        var nhwc = new float[nchw.Length];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                for (int i = 0; i < h; i++)
                {
                    for (int j = 0; j < w; j++)
                    {
                        nhwc[(((((b * h) + i) * w) + j) * c) + ch] = nchw[(((((b * c) + ch) * h) + i) * w) + j];
                    }
                }
            }
        }

        using var layer = Layer(DataFormat.ChannelsLast, "tensors_strided");
        var expected = layer.Forward(nhwc, new Shape(n, h, w, c));
        var view = new ReadOnlyTensorSpan<float>(nchw, [n, h, w, c], [c * h * w, w, 1, h * w]);
        Assert.That(Flat(layer.Forward(view)), Is.EqualTo(expected));

        // The output written into every other element of a larger buffer.
        var outputShape = layer.ComputeOutputShape(new Shape(n, h, w, c));
        var buffer = new float[outputShape.ElementCount * 2];
        var strided = new TensorSpan<float>(buffer, [outputShape[0], outputShape[1], outputShape[2], outputShape[3]],
            [2 * outputShape[1] * outputShape[2] * outputShape[3], 2 * outputShape[2] * outputShape[3], 2 * outputShape[3], 2]);
        layer.Forward(view, strided);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.That(buffer[2 * k], Is.EqualTo(expected[k]), $"element {k}");
            Assert.That(buffer[(2 * k) + 1], Is.Zero, "the gaps are not written");
        }
    }

    [Test]
    public void Wrong_shapes_are_refused_naming_the_argument_and_nothing_is_written()
    {
        using var layer = Layer(DataFormat.ChannelsLast, "tensors_bad");
        var rank3 = Tensor.Create(new float[24], [2, 3, 4]);
        Assert.That(() => layer.Forward(rank3), Throws.ArgumentException.With.Property("ParamName").EqualTo("input").And.Message.Contains("[2, 3, 4]"));

        var input = Tensor.Create(new float[2 * 4 * 5 * 3], [2, 4, 5, 3]);
        var output = new float[100];
        Array.Fill(output, 7f);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(input, new TensorSpan<float>(output, [1, 1, 10, 10])))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.ParamName, Is.EqualTo("output"));
            Assert.That(error.Message, Does.Contain("[1, 1, 10, 10]").And.Contain("[2, 8, 10, 3]"));
            Assert.That(output, Is.All.EqualTo(7f));
        });

        layer.Forward(input);
        Assert.That(() => layer.Backward(Tensor.Create(new float[10], [1, 1, 1, 10])), Throws.ArgumentException.With.Property("ParamName").EqualTo("outputGradient"));
    }

    private static float[] Flat(Tensor<float> tensor)
    {
        var values = new float[tensor.FlattenedLength];
        tensor.FlattenTo(values);
        return values;
    }
}
