namespace ILGpuDeconv;

/// <summary>The three convolutions of a layer, each routed to its own GPU program (<see cref="ProgramRoute"/>).</summary>
public enum ConvolutionPass
{
    /// <summary>The forward pass: the transposed convolution of the input by the kernel (with bias and activation).</summary>
    Forward,

    /// <summary>The gradient with respect to the input: a convolution of the output gradient by the kernel.</summary>
    InputGradient,

    /// <summary>The gradient with respect to the kernel: a reduction of input times output gradient over the batch and positions.</summary>
    KernelGradient,
}
