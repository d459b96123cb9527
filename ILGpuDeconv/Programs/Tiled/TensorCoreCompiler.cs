using System;
using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// Compiles the tensor-core entry points at <see cref="OptimizationLevel.O2"/>, in a context of its own, for
/// loading into the library's (O1) CUDA accelerator. Every <c>CudaAsm</c> operand is a local variable, which ptxas
/// keeps in registers only when the kernel has no generic-address loads; O1 emits generic loads (measured 30x
/// slower). The rest of the library stays at O1, where ptxas allocates the SIMT tiles without spills (at O2 it
/// spilled 984 bytes in the 128x128 forward tile).
/// </summary>
internal sealed class TensorCoreCompiler : IDisposable
{
    private readonly Context context;
    private readonly PTXBackend backend;

    /// <summary>Creates a compiler for an architecture and PTX version (those of the accelerator it compiles for).</summary>
    public TensorCoreCompiler(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        context = Context.Create(builder => ConfigureContext(builder));
        try
        {
            backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The settings of the tensor-core context: the library's, at <see cref="OptimizationLevel.O2"/>.</summary>
    public static Context.Builder ConfigureContext(Context.Builder builder) => DeconvDevice.ConfigureContext(builder).Optimize(OptimizationLevel.O2);

    /// <summary>Compiles an explicitly grouped entry point with launch bounds.</summary>
    /// <remarks>One compilation at a time: the launcher compiles different tiles from different threads, and nothing
    /// says ILGPU's backend may be shared by them.</remarks>
    public PTXCompiledKernel Compile(MethodInfo entryPoint, KernelSpecialization specialization)
    {
        lock (backend)
        {
            return (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(entryPoint), specialization);
        }
    }

    /// <summary>Compiles an entry point and loads it into <paramref name="accelerator"/>, as a launch delegate.</summary>
    public TLaunch Load<TLaunch>(Accelerator accelerator, MethodInfo entryPoint, KernelSpecialization specialization)
        where TLaunch : Delegate =>
        accelerator.LoadKernel(Compile(entryPoint, specialization)).CreateLauncherDelegate<TLaunch>();

    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }
}
