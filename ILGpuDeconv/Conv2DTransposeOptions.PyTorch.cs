using System;

namespace ILGpuDeconv;

/// <content>Options from PyTorch's <c>torch.nn.ConvTranspose2d</c> arguments.</content>
public sealed partial record Conv2DTransposeOptions
{
    /// <summary>
    /// Options equal to <c>torch.nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding,
    /// output_padding, groups, bias, dilation)</c>: NCHW data (<see cref="DataFormat.ChannelsFirst"/>), PyTorch's padding
    /// (<see cref="ExplicitPadding"/>) and output padding, groups, and PyTorch's default initialization (weights and bias
    /// uniform in <c>±1/sqrt(fan_in)</c>, <c>fan_in = out_channels / groups * kh * kw</c>). The layer gives PyTorch's shapes and
    /// values; load a state_dict's <c>weight</c> with <see cref="WeightLayout.PyTorch"/>. For PyTorch's
    /// <c>forward(input, output_size)</c>, set <see cref="OutputSize"/>.
    /// </summary>
    /// <param name="inChannels">PyTorch <c>in_channels</c> (checked; the layer takes the channels from its input).</param>
    /// <param name="outChannels">PyTorch <c>out_channels</c>: <see cref="Filters"/>.</param>
    /// <param name="kernelSize">PyTorch <c>kernel_size</c>.</param>
    /// <param name="stride">PyTorch <c>stride</c> (default 1).</param>
    /// <param name="padding">PyTorch <c>padding</c> (default 0).</param>
    /// <param name="outputPadding">PyTorch <c>output_padding</c> (default 0).</param>
    /// <param name="groups">PyTorch <c>groups</c> (default 1): <see cref="Groups"/>.</param>
    /// <param name="bias">PyTorch <c>bias</c> (default true): <see cref="UseBias"/>.</param>
    /// <param name="dilation">PyTorch <c>dilation</c> (default 1).</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An argument PyTorch would refuse; the message names it.</exception>
    public static Conv2DTransposeOptions FromPyTorch(
        int inChannels, int outChannels, Size2D kernelSize, Size2D? stride = null, Size2D? padding = null, Size2D? outputPadding = null,
        int groups = 1, bool bias = true, Size2D? dilation = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"groups must divide in_channels and out_channels (as in PyTorch); got groups={groups}, in_channels={inChannels}, out_channels={outChannels}.", nameof(groups));
        }

        // PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) is uniform in +-sqrt(1/fan_in), as is the bias,
        // with fan_in = weight.size(1) * kh * kw = out_channels / groups * kh * kw (Keras's fan_in of the [kh, kw, out/g, in] kernel too).
        double limit = 1.0 / Math.Sqrt((double)outChannels / groups * kernelSize.Height * kernelSize.Width);
        var options = new Conv2DTransposeOptions(outChannels, kernelSize)
        {
            Strides = stride ?? 1,
            ExplicitPadding = padding ?? 0,
            OutputPadding = outputPadding ?? 0,
            DilationRate = dilation ?? 1,
            UseBias = bias,
            Groups = groups,
            DataFormat = DataFormat.ChannelsFirst,
            KernelInitializer = Initializer.VarianceScaling(1.0 / 3.0, FanMode.FanIn, VarianceScalingDistribution.Uniform),
            BiasInitializer = Initializer.RandomUniform((float)-limit, (float)limit),
        };
        options.Validate();
        return options;
    }
}
