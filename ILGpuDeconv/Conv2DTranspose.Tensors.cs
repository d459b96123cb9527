using System;
using System.Numerics.Tensors;

namespace ILGpuDeconv;

/// <content>
/// The layer on .NET's tensor types (<see cref="Tensor{T}"/>, <see cref="ReadOnlyTensorSpan{T}"/>,
/// <see cref="TensorSpan{T}"/>): rank-4 tensors in the layer's data format, any strides; the same checks and
/// results as the array API, which these call.
/// </content>
public sealed partial class Conv2DTranspose
{
    /// <summary>Runs the layer, keeping state for the backward pass (see <see cref="Forward(ReadOnlySpan{float}, ILGpuDeconv.TensorShape)"/>).</summary>
    /// <param name="input">The input, rank 4 in the layer's data format (<c>[N, H, W, C]</c> or <c>[N, C, H, W]</c>).</param>
    /// <returns>The output, in <see cref="ComputeOutputShape"/> of the input's shape.</returns>
    /// <exception cref="ArgumentException">The input is not rank 4 or its shape is invalid for the layer; the message names <paramref name="input"/> and the shape.</exception>
    public Tensor<float> Forward(in ReadOnlyTensorSpan<float> input)
    {
        var (values, shape) = Flatten(input, nameof(input));
        return ToTensor(Forward(values, shape), ComputeOutputShape(shape));
    }

    /// <summary>Runs the layer for inference only (see <see cref="Predict(ReadOnlySpan{float}, ILGpuDeconv.TensorShape)"/>).</summary>
    /// <param name="input">The input, rank 4 in the layer's data format.</param>
    /// <returns>The output.</returns>
    /// <exception cref="ArgumentException">The input is not rank 4 or its shape is invalid for the layer.</exception>
    public Tensor<float> Predict(in ReadOnlyTensorSpan<float> input)
    {
        var (values, shape) = Flatten(input, nameof(input));
        return ToTensor(Predict(values, shape), ComputeOutputShape(shape));
    }

    /// <summary>Runs the layer into a caller's tensor span (any strides), keeping state for the backward pass.</summary>
    /// <param name="input">The input, rank 4 in the layer's data format.</param>
    /// <param name="output">Where to write; its lengths must be <see cref="ComputeOutputShape"/> of the input's.</param>
    /// <exception cref="ArgumentException">A shape is wrong; the message names the argument and both shapes. Nothing is written then.</exception>
    public void Forward(in ReadOnlyTensorSpan<float> input, in TensorSpan<float> output)
    {
        var (values, shape) = Flatten(input, nameof(input));
        var expected = ComputeOutputShape(shape);
        RequireLengths(output.Lengths, expected, nameof(output));
        var result = Forward(values, shape);
        new ReadOnlyTensorSpan<float>(result, Lengths(expected)).CopyTo(output);
    }

    /// <summary>Back-propagates (see <see cref="Backward(ReadOnlySpan{float})"/>) and returns the input gradient.</summary>
    /// <param name="outputGradient">The loss gradient with respect to the last Forward call's output, in its shape.</param>
    /// <returns>The input gradient, in the input's shape.</returns>
    /// <exception cref="ArgumentException">The gradient's shape is not the output's; the message names both.</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> call preceded this one.</exception>
    public Tensor<float> Backward(in ReadOnlyTensorSpan<float> outputGradient)
    {
        TensorShape inputShape, outputShape;
        using (EnterCall())
        {
            var state = RequireSaved();
            (inputShape, outputShape) = (state.Geometry.InputShape, state.Geometry.OutputShape);
        }

        RequireLengths(outputGradient.Lengths, outputShape, nameof(outputGradient));
        var (values, _) = Flatten(outputGradient, nameof(outputGradient));
        return ToTensor(Backward(values), inputShape);
    }

    private static (float[] Values, TensorShape Shape) Flatten(in ReadOnlyTensorSpan<float> tensor, string argumentName)
    {
        if (tensor.Rank != 4)
        {
            throw new ArgumentException($"{argumentName} must be a rank-4 tensor in the layer's data format; got lengths [{string.Join(", ", tensor.Lengths.ToArray())}].", argumentName);
        }

        var dims = new int[4];
        for (int i = 0; i < 4; i++)
        {
            dims[i] = tensor.Lengths[i] <= int.MaxValue ? (int)tensor.Lengths[i] : throw new ArgumentException($"{argumentName} has length {tensor.Lengths[i]} on axis {i}.", argumentName);
        }

        if (tensor.FlattenedLength > Array.MaxLength)
        {
            throw new ArgumentException($"{argumentName} has {tensor.FlattenedLength} elements, more than an array holds.", argumentName);
        }

        var values = new float[tensor.FlattenedLength];
        tensor.FlattenTo(values);
        return (values, new TensorShape(dims));
    }

    private static void RequireLengths(ReadOnlySpan<nint> lengths, TensorShape expected, string argumentName)
    {
        bool same = lengths.Length == expected.Rank;
        for (int i = 0; same && i < lengths.Length; i++)
        {
            same = lengths[i] == expected[i];
        }

        if (!same)
        {
            throw new ArgumentException($"{argumentName} has lengths [{string.Join(", ", lengths.ToArray())}]; the layer needs {expected}.", argumentName);
        }
    }

    private static nint[] Lengths(TensorShape shape)
    {
        var lengths = new nint[shape.Rank];
        for (int i = 0; i < lengths.Length; i++)
        {
            lengths[i] = shape[i];
        }

        return lengths;
    }

    private static Tensor<float> ToTensor(float[] values, TensorShape shape) => Tensor.Create(values, Lengths(shape));
}
