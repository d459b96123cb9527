using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv;

/// <summary>
/// Launches programs on one accelerator: compiles each program type once (the cache is keyed by the
/// program's closed type), sizes the launch, and serialises launches. Every per-device tuning knob lives
/// here.
/// </summary>
internal sealed class Launcher : IDisposable
{
    /// <summary>Simulated threads per OS thread of ILGPU's CPU accelerator: enough to balance uneven items, few enough to amortise their cost.</summary>
    public const int CpuThreadsPerCore = 8;

    /// <summary>Work items per group on OpenCL and CUDA devices.</summary>
    public const int GpuGroupSize = 128;

    private readonly Accelerator accelerator;
    private readonly ConcurrentDictionary<Type, Lazy<Delegate>> compiled = new();
    private readonly ConcurrentDictionary<(Type Program, TileShape Shape, bool TensorCores), Lazy<Delegate>> compiledTiled = new();
    private readonly Lazy<TensorCoreCompiler>? tensorCoreCompiler;

    /// <summary>
    /// The lock held while a program is launched. OpenCL kernel objects keep their arguments between
    /// <c>clSetKernelArg</c> and the enqueue, so two threads launching one compiled program at once corrupt
    /// each other's launch (seen on PoCL as heap corruption).
    /// </summary>
    private readonly object gate = new();
    private long tiledLaunches;
    private long tensorCoreLaunches;
    private volatile string? tensorCoreFailure;

    public Launcher(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        UsesPointers = accelerator.AcceleratorType == AcceleratorType.CPU;
        if (accelerator is CudaAccelerator cuda)
        {
            tensorCoreCompiler = new Lazy<TensorCoreCompiler>(() => new TensorCoreCompiler(cuda.Architecture, cuda.InstructionSet));
        }

        // CPUs (ILGPU's CPU accelerator, and OpenCL CPU devices such as PoCL, whose "threads per
        // multiprocessor" are no hardware threads) need a few hundred items per core; GPUs need enough
        // resident threads to fill every multiprocessor several times.
        ReductionThreads = accelerator switch
        {
            _ when UsesPointers => 64L * Environment.ProcessorCount,
            CLAccelerator { DeviceType: CLDeviceType.CL_DEVICE_TYPE_CPU } cl => 8192L * cl.NumMultiprocessors,
            _ => 8L * accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor,
        };
    }

    /// <summary>
    /// Gets a value indicating whether programs read memory through raw pointers (<see cref="PointerMemory"/>):
    /// on ILGPU's CPU accelerator, where the view indexer's checks cost about 3x; elsewhere views.
    /// </summary>
    public bool UsesPointers { get; }

    /// <summary>
    /// Gets a value indicating whether the accelerator can run the tiled programs: groups of
    /// <see cref="TiledGemm.GroupSize"/> threads with their shared memory. ILGPU's CPU accelerator as the
    /// library configures it (<see cref="CpuAcceleratorDevice"/>) cannot; one configured for 256-thread groups can.
    /// </summary>
    public bool SupportsTiled => accelerator.MaxNumThreadsPerGroup >= TiledGemm.GroupSize && accelerator.MaxSharedMemoryPerGroup >= TiledGemm.SharedBytes;

    /// <summary>Gets how many tiled programs this launcher has launched (for tests that must know which programs ran).</summary>
    public long TiledLaunches => Interlocked.Read(ref tiledLaunches);

    /// <summary>
    /// Gets why the tensor-core loops could not be compiled, loaded or launched, or null while they can. The first such
    /// failure turns them off for the launcher's lifetime: the tiled programs run their SIMT loops, with the same
    /// TF32 operands. A launch that the driver refuses (too many registers or too much shared memory for the device,
    /// no code for its architecture) fails when it is issued and is caught; a fault while the loop runs is reported
    /// by CUDA later, asynchronously, and leaves the context unusable, so no fallback could help there.
    /// </summary>
    public string? TensorCoreFailure => tensorCoreFailure;

    /// <summary>Gets how many of the tiled launches ran the tensor-core loops.</summary>
    public long TensorCoreLaunches => Interlocked.Read(ref tensorCoreLaunches);

    /// <summary>
    /// Gets a value indicating whether the accelerator has TF32 tensor cores (<c>mma.sync</c> on compute capability
    /// 8.0 and above) and the tiled programs.
    /// </summary>
    public bool HasTensorCores => SupportsTiled && accelerator is CudaAccelerator cuda && cuda.Architecture >= CudaArchitecture.SM_80;

    /// <summary>
    /// Gets a value indicating whether the accelerator can run the tensor-core loops at all: CUDA, or ILGPU's CPU
    /// accelerator (emulated) with the tiled programs' groups and the loops' shared memory. ILGPU's OpenCL code
    /// generator refuses them ("Invalid code generation operation"), inline PTX in the dead branch included.
    /// </summary>
    public bool SupportsTensorCoreLoops => SupportsTiled
        && accelerator.MaxSharedMemoryPerGroup >= (accelerator is CudaAccelerator ? TiledGemm.TensorCoreSharedBytes : TiledGemm.EmulatedTensorCoreSharedBytes)
        && accelerator.AcceleratorType is AcceleratorType.Cuda or AcceleratorType.CPU;

    /// <summary>Gets the accelerator's multiprocessors (compute units, cores), which a tiled launch aims to fill.</summary>
    public int Multiprocessors => Math.Max(1, accelerator.NumMultiprocessors);

    /// <summary>Gets how many threads a reduction split into chunks aims for.</summary>
    public long ReductionThreads { get; }

    /// <summary>
    /// Up to this many terms per filter, the bias gradient stays one chunk: one item sums it in less time than
    /// the finishing launch a split would need.
    /// </summary>
    public const long SingleChunkBiasTerms = 16384;

    /// <summary>
    /// ILGPU's CPU accelerator as the library configures it. It runs one OS thread per simulated thread: two
    /// threads per warp and one multiprocessor per two threads measured faster than ILGPU's default simulation
    /// of 16 threads. As many threads as cores (two at least: ILGPU's warps have two), or
    /// <see cref="DeconvDevice.CpuThreadsVariable"/>'s number: every launch waits for all of them, so on a machine
    /// whose cores are busy with other work fewer threads than cores keep launches from waiting for descheduled ones.
    /// </summary>
    /// <exception cref="ArgumentException">The variable holds something other than an even number from 2 to 1024.</exception>
    public static CPUDevice CpuAcceleratorDevice()
    {
        int threads = CpuThreads(Environment.GetEnvironmentVariable(DeconvDevice.CpuThreadsVariable));
        return new(numThreadsPerWarp: 2, numWarpsPerMultiprocessor: 1, numMultiprocessors: threads / 2);
    }

    /// <summary>The CPU accelerator's threads for a value of <see cref="DeconvDevice.CpuThreadsVariable"/> (null or empty: as many as cores).</summary>
    internal static int CpuThreads(string? text, string argumentName = DeconvDevice.CpuThreadsVariable)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return 2 * Math.Max(1, Environment.ProcessorCount / 2);
        }

        return int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int threads)
            && threads >= 2 && threads <= 1024 && threads % 2 == 0
            ? threads
            : throw new ArgumentException(
                $"{argumentName} must be an even number of threads from 2 to 1024 (ILGPU's CPU accelerator runs warps of two); got \"{text}\".",
                argumentName);
    }

    /// <summary>Launches a program over its <see cref="IGpuProgram.Items"/> work items (at least one) on a stream.</summary>
    /// <typeparam name="TProgram">The program.</typeparam>
    /// <param name="stream">The stream.</param>
    /// <param name="program">The program with its tensors and parameters.</param>
    public void Launch<TProgram>(AcceleratorStream stream, in TProgram program)
        where TProgram : struct, IGpuProgram
    {
        var run = Compiled<Type, Action<AcceleratorStream, KernelConfig, WorkGrid, TProgram>>(
            compiled, typeof(TProgram), () => accelerator.LoadKernel<WorkGrid, TProgram>(GridStrideLoop.Run));
        var grid = GridFor(program.Items);
        lock (gate)
        {
            run(stream, grid.Config, grid, program);
        }
    }

    /// <summary>
    /// Launches a tiled program (<see cref="TiledGemm"/>): a group of 256 threads per block tile of each problem.
    /// On CUDA it is compiled with launch bounds (<see cref="TiledGemm.Specialization"/>).
    /// </summary>
    /// <typeparam name="TProgram">The program.</typeparam>
    /// <param name="stream">The stream.</param>
    /// <param name="program">The program with its tensors and grid.</param>
    /// <param name="tensorCores">
    /// Run the TF32 tensor-core loops (operands already rounded to TF32): <c>mma.sync</c> on CUDA, compiled at O2 by
    /// <see cref="TensorCoreCompiler"/>; elsewhere their emulation. When they fail to compile, load or launch, the SIMT
    /// loops run instead, from then on (<see cref="TensorCoreFailure"/> says why).
    /// </param>
    public void LaunchTiled<TProgram>(AcceleratorStream stream, in TProgram program, bool tensorCores = false)
        where TProgram : struct, ITiledProgram
    {
        var grid = program.Grid;
        tensorCores &= tensorCoreFailure is null;
        Action<AcceleratorStream, KernelConfig, TProgram> run;
        try
        {
            run = CompiledTiled<TProgram>(grid.Shape, tensorCores);
        }
        catch (Exception e) when (tensorCores && e is not OutOfMemoryException)
        {
            // The operands are TF32 already, so the SIMT loops give the same TF32 results, without the speed.
            tensorCoreFailure = $"{e.GetType().Name}: {e.Message}";
            tensorCores = false;
            run = CompiledTiled<TProgram>(grid.Shape, false);
        }

        lock (gate)
        {
            try
            {
                run(stream, TiledGemm.Config(grid), program);
            }
            catch (Exception e) when (tensorCores && e is not OutOfMemoryException)
            {
                // Refused at the launch (resources, architecture): the SIMT loops, as for a compile failure.
                tensorCoreFailure = $"{e.GetType().Name} at launch: {e.Message}";
                tensorCores = false;
                CompiledTiled<TProgram>(grid.Shape, false)(stream, TiledGemm.Config(grid), program);
            }
        }

        Interlocked.Increment(ref tiledLaunches);
        if (tensorCores)
        {
            Interlocked.Increment(ref tensorCoreLaunches);
        }
    }

    private Action<AcceleratorStream, KernelConfig, TProgram> CompiledTiled<TProgram>(TileShape shape, bool tensorCores)
        where TProgram : struct, ITiledProgram
    {
        var entryPoint = (tensorCores, accelerator) switch
        {
            (false, _) => TiledGemm.EntryPoint<TProgram>(shape),
            (true, CudaAccelerator) => TiledGemm.TensorCoreEntryPoint<TProgram>(shape),
            _ => TiledGemm.EmulatedTensorCoreEntryPoint<TProgram>(shape),
        };
        return Compiled<(Type, TileShape, bool), Action<AcceleratorStream, KernelConfig, TProgram>>(
            compiledTiled,
            (typeof(TProgram), shape, tensorCores),
            () => (accelerator, tensorCores) switch
            {
                (CudaAccelerator, true) => tensorCoreCompiler!.Value.Load<Action<AcceleratorStream, KernelConfig, TProgram>>(accelerator, entryPoint.Method, TiledGemm.Specialization),
                (CudaAccelerator, false) => accelerator.LoadKernel(entryPoint, TiledGemm.Specialization),
                _ => accelerator.LoadKernel(entryPoint),
            });
    }

    /// <summary>Releases the tensor-core compiler's context (the compiled programs go with the accelerator).</summary>
    public void Dispose()
    {
        if (tensorCoreCompiler is { IsValueCreated: true } compiler)
        {
            compiler.Value.Dispose();
        }
    }

    /// <summary>Gets a compiled program from a cache, compiling it on first use; a failed compilation is not cached.</summary>
    private static TLaunch Compiled<TKey, TLaunch>(ConcurrentDictionary<TKey, Lazy<Delegate>> cache, TKey key, Func<Delegate> compile)
        where TKey : notnull
        where TLaunch : Delegate
    {
        var entry = cache.GetOrAdd(key, static (_, c) => new Lazy<Delegate>(c), compile);
        try
        {
            return (TLaunch)entry.Value;
        }
        catch
        {
            cache.TryRemove(new KeyValuePair<TKey, Lazy<Delegate>>(key, entry));
            throw;
        }
    }

    /// <summary>
    /// The launch for a number of items: on ILGPU's CPU accelerator a few threads per core that loop over
    /// many items (each simulated thread costs a few hundred nanoseconds); elsewhere groups of
    /// <see cref="GpuGroupSize"/>, explicit because ILGPU's automatic size on PoCL is one group of up to 4096
    /// work items, which runs on a single core.
    /// </summary>
    private WorkGrid GridFor(long items)
    {
        int total = Math.Max(1, checked((int)items));
        if (UsesPointers)
        {
            int size = accelerator.MaxNumThreadsPerGroup;
            int threads = Math.Min(total, CpuThreadsPerCore * accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor);
            return new WorkGrid(total, (threads + size - 1) / size, size);
        }

        int group = Math.Min(GpuGroupSize, accelerator.MaxNumThreadsPerGroup);
        return new WorkGrid(total, (total + group - 1) / group, group);
    }
}
