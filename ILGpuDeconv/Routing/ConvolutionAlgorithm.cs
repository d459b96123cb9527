namespace ILGpuDeconv;

/// <summary>
/// Which GPU programs compute a layer's forward pass, input gradient and kernel gradient on a
/// <see cref="DeconvDevice"/> (compare <c>torch.backends.cudnn</c>'s algorithm choice). All give results
/// equal to TensorFlow's within the same tolerance; they differ in speed and in summation order.
/// </summary>
public enum ConvolutionAlgorithm
{
    /// <summary>
    /// Deterministic rules, from measurements on each kind of accelerator: <see cref="TiledGemm"/> on CUDA, <see cref="Direct"/>
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

    /// <summary>
    /// Measured, as PyTorch's <c>torch.backends.cudnn.benchmark = True</c>: on the first call of each new key (pass,
    /// sizes, data format, groups, precision) every eligible route runs a few times and the fastest is kept for that
    /// key (<see cref="DeconvDevice.Tuning"/>, which can be saved and loaded so that later processes take the same
    /// routes). Where only one route is eligible, it runs without a measurement.
    /// </summary>
    Tuned,
}
