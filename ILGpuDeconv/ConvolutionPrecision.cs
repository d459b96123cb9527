namespace ILGpuDeconv;

/// <summary>
/// The arithmetic of the layer's three convolutions (forward pass, input gradient, kernel gradient). Bias,
/// activation and the bias gradient are always float32.
/// </summary>
public enum ConvolutionPrecision
{
    /// <summary>IEEE float32 products and sums: TensorFlow's results (the default).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "float32 is the name TensorFlow, PyTorch and NumPy users know.")]
    Float32,

    /// <summary>
    /// TensorFloat-32, as NVIDIA tensor cores compute and as TensorFlow
    /// (<c>tf.config.experimental.enable_tensor_float_32_execution</c>, on by default) and PyTorch
    /// (<c>torch.backends.cudnn.allow_tf32</c>, on by default for convolutions) allow: each operand is rounded
    /// to 10 mantissa bits (to nearest, ties away from zero, as <c>cvt.rna.tf32.f32</c>), products and sums stay
    /// float32. Each product then carries a relative error of at most about 2^-10. The operands are rounded once,
    /// before the convolutions run; on CUDA devices of compute capability 8.0 and above the tiled programs then
    /// multiply on tensor cores (<c>mma.sync</c> TF32), elsewhere the float32 programs do: the same exact products,
    /// summed differently (tensor cores do not promise IEEE float32 additions), both within TF32's error bound.
    /// </summary>
    TensorFloat32,
}
