using System;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>Small helpers to set up layers with random weights and data.</summary>
public static class Layers
{
    public static (Conv2DTranspose Layer, float[] Input, TensorShape Shape) Random(
        DeconvDevice device, Conv2DTransposeOptions options, TensorShape inputShape, int seed)
    {
        var random = new Random(seed);
        var layer = new Conv2DTranspose(device, options);
        var geometry = layer.GetGeometry(inputShape);
        layer.SetWeights(
            RandomTensors.Uniform(random, geometry.KernelShape.ElementCount),
            options.UseBias ? RandomTensors.Uniform(random, options.Filters) : ReadOnlySpan<float>.Empty);
        return (layer, RandomTensors.Uniform(random, geometry.InputElements), inputShape);
    }

    /// <summary><c>sum(output * upstream)</c> in double.</summary>
    public static double Loss(float[] output, float[] upstream)
    {
        double sum = 0;
        for (int i = 0; i < output.Length; i++)
        {
            sum += (double)output[i] * upstream[i];
        }

        return sum;
    }
}
