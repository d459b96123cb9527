namespace ILGpuDeconv;

/// <summary>
/// The kind of ILGPU accelerator a <see cref="DeconvDevice"/> runs on, and the kind
/// <see cref="DeconvDevice.Create(AcceleratorKind?)"/> asks for (null there means the automatic choice:
/// CUDA, else OpenCL, else the CPU accelerator).
/// </summary>
public enum AcceleratorKind
{
    /// <summary>ILGPU's CPU accelerator: a simulated GPU running on the host's cores; always present.</summary>
    Cpu,

    /// <summary>An OpenCL device (a GPU, or a CPU through PoCL).</summary>
    OpenCL,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
}
