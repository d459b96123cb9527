using System;
using ILGpuDeconv.Bench.Benchmarks;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>ILGpuDeconv on one accelerator, through the device API (data stays on the device; no copies timed).</summary>
public sealed class IlgpuRunner : IPassRunner
{
    private readonly DeconvDevice device;
    private readonly Conv2DTranspose layer;
    private readonly ConvolutionPass pass;
    private readonly ConvolutionPrecision precision;
    private readonly DeviceTensor x;
    private readonly DeviceTensor y;
    private readonly DeviceTensor dy;
    private readonly DeviceTensor dx;

    public IlgpuRunner(DeconvDevice device, BenchmarkShape shape, ConvolutionPass pass, ConvolutionPrecision precision = ConvolutionPrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        this.device = device;
        this.pass = pass;
        this.precision = precision;

        // The input-gradient pass alone: a non-trainable layer computes no weight gradients.
        layer = new Conv2DTranspose(device, shape.Options with { Trainable = pass != ConvolutionPass.InputGradient, Precision = precision });
        var geometry = layer.GetGeometry(shape.InputShape);
        x = DeviceTensor.FromHost(device, HostData.Uniform(geometry.InputElements, 3), geometry.InputShape);
        y = DeviceTensor.Allocate(device, geometry.OutputShape);
        dy = DeviceTensor.FromHost(device, HostData.Uniform(geometry.OutputElements, 4), geometry.OutputShape);
        dx = DeviceTensor.Allocate(device, geometry.InputShape);
        layer.Forward(x, y); // builds the weights and keeps the input for the backward passes
        device.Synchronize();
    }

    /// <summary>
    /// Gets <c>ilgpu</c> for the accelerator's automatic choice, else <c>ilgpu_direct</c>, <c>ilgpu_tiled</c> or <c>ilgpu_tuned</c>;
    /// with a <c>_tf32</c> suffix in <see cref="ConvolutionPrecision.TensorFloat32"/>.
    /// </summary>
    public string Implementation => device.Algorithm switch
    {
        ConvolutionAlgorithm.Direct => "ilgpu_direct",
        ConvolutionAlgorithm.TiledGemm => "ilgpu_tiled",
        ConvolutionAlgorithm.Tuned => "ilgpu_tuned",
        _ => "ilgpu",
    } + (precision == ConvolutionPrecision.TensorFloat32 ? "_tf32" : string.Empty);

    /// <summary>Gets the route the pass took in its last run (<see cref="Conv2DTranspose.LastRoute"/>).</summary>
    public ProgramRoute? Route => layer.LastRoute(pass);

    public string Accelerator => Choices.NameOf(device.Kind);

    public void Run()
    {
        switch (pass)
        {
            case ConvolutionPass.Forward:
                layer.Predict(x, y);
                break;
            case ConvolutionPass.InputGradient:
                layer.Backward(dy, dx);
                break;
            default:
                layer.Backward(dy, null);
                break;
        }

        device.Synchronize();
    }

    public float[] Result() => pass switch
    {
        ConvolutionPass.Forward => y.ToArray(),
        ConvolutionPass.InputGradient => dx.ToArray(),
        _ => layer.GetGradients().Kernel,
    };

    /// <summary>Gets the weights, so peers compute the same thing.</summary>
    public (float[] Kernel, float[]? Bias) Weights => layer.GetWeights();

    public void Dispose()
    {
        layer.Dispose();
        x.Dispose();
        y.Dispose();
        dy.Dispose();
        dx.Dispose();
    }
}

/// <summary>Seeded host data shared by every implementation.</summary>
public static class HostData
{
    public static float[] Uniform(long length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
