namespace ILGpuDeconv.Runtime;

/// <summary>The kind of ILGPU accelerator a <see cref="DeconvDevice"/> runs on.</summary>
public enum AcceleratorKind
{
    /// <summary>ILGPU's CPU accelerator: a simulated GPU running on the host's cores; always present.</summary>
    Cpu,

    /// <summary>An OpenCL device (a GPU, or a CPU through PoCL).</summary>
    OpenCL,

    /// <summary>An NVIDIA GPU through CUDA.</summary>
    Cuda,
}

/// <summary>Which accelerator <see cref="DeconvDevice.Create(AcceleratorPreference)"/> should choose.</summary>
public enum AcceleratorPreference
{
    /// <summary>CUDA if present, else OpenCL, else the CPU accelerator.</summary>
    Auto,

    /// <summary>The first CUDA device; an error if there is none.</summary>
    Cuda,

    /// <summary>The first OpenCL device; an error if there is none.</summary>
    OpenCL,

    /// <summary>ILGPU's CPU accelerator.</summary>
    Cpu,
}
