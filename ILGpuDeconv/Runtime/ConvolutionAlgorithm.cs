namespace ILGpuDeconv.Runtime;

/// <summary>
/// Which GPU programs compute a layer's forward pass, input gradient and kernel gradient on a
/// <see cref="DeconvDevice"/> (compare <c>torch.backends.cudnn</c>'s algorithm choice). All give results
/// equal to TensorFlow's within the same tolerance; they differ in speed and in summation order.
/// </summary>
public enum ConvolutionAlgorithm
{
    /// <summary>
    /// The fastest measured choice for the accelerator: <see cref="TiledGemm"/> on CUDA, <see cref="Direct"/>
    /// on OpenCL and ILGPU's CPU accelerator (their CPU devices run the direct programs faster). With groups,
    /// <see cref="TiledGemm"/> only when every group has at least <see cref="DeconvDevice.TiledGroupMinimum"/> input
    /// channels and filters: narrower groups (depthwise above all) would fill a fraction of each tile, so they run
    /// <see cref="Direct"/>, all groups in one launch.
    /// </summary>
    Auto,

    /// <summary>Register-blocked programs that read the tensors directly, one small block of outputs per work item.</summary>
    Direct,

    /// <summary>
    /// Implicit GEMMs: block tiles of 64 or 128 by 64 or 128 outputs per group of 256 threads, staged through
    /// shared memory, launched once per group of channels. Needs groups of 256 threads. The forward pass and the input gradient use them only
    /// while every weight is finite (checked on the device when the weights change): with an infinite or NaN
    /// weight they fall back to <see cref="Direct"/>, which forms only the products TensorFlow forms.
    /// </summary>
    TiledGemm,
}
