using System;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>One implementation of one pass on one shape, set up once and run many times.</summary>
public interface IPassRunner : IDisposable
{
    /// <summary>Gets the implementation name: ilgpu, naive, onnxruntime.</summary>
    string Implementation { get; }

    /// <summary>Gets where it runs: cpu, opencl, cuda (ILGPU accelerators) or host.</summary>
    string Accelerator { get; }

    /// <summary>Runs the pass once and waits for it to finish.</summary>
    void Run();

    /// <summary>Copies the result to the host, for a correctness check against another implementation.</summary>
    float[] Result();
}
