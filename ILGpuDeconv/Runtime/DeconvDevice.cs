using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <summary>
/// The accelerator the layers run on: owns (or borrows from the caller) an ILGPU <see cref="ILGPU.Context"/>
/// and <see cref="ILGPU.Runtime.Accelerator"/>, chooses CUDA, else OpenCL, else ILGPU's CPU accelerator
/// unless told otherwise, compiles each GPU program once, and accounts for the device memory the library holds.
/// </summary>
/// <remarks>
/// <para>
/// Thread safety: creating layers and tensors and launching work from several threads is safe; programs
/// run in launch order on the accelerator's default stream.
/// </para>
/// <para>
/// Lifetime: once <see cref="Dispose"/> has begun, every call that would touch the accelerator (on a layer, a
/// tensor, the tuning table or the device) throws <see cref="ObjectDisposedException"/> before it starts; Dispose
/// waits for the calls already running on the device to finish, then frees the accelerator. Layers and tensors
/// on a disposed device can still be disposed (their memory went with the accelerator; the accounting follows).
/// </para>
/// </remarks>
public sealed class DeconvDevice : IDisposable
{
    /// <summary>The environment variable that picks the accelerator when the code does not: <c>auto|cuda|opencl|cpu</c>.</summary>
    public const string EnvironmentVariable = "ILGPUDECONV_ACCELERATOR";

    /// <summary>
    /// The environment variable that sets how many OS threads ILGPU's CPU accelerator runs (an even number from 2 to
    /// 1024; default: as many as cores). Every launch waits for all of them, so beside other busy work fewer threads
    /// than cores run faster (README, "The CPU accelerator beside other work"). Read when a device is created.
    /// </summary>
    public const string CpuThreadsVariable = "ILGPUDECONV_CPU_THREADS";

    private static readonly Lazy<DeconvDevice> SharedDevice = new(() => Create(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Context? ownedContext;
    private readonly LifetimeGate gate;
    private long allocatedBytes;
    private long memoryLimit = -1;
    private int algorithm;

    private DeconvDevice(Context? ownedContext, Accelerator accelerator, bool ownsAccelerator, string selectionReason)
    {
        this.ownedContext = ownedContext;
        OwnsAccelerator = ownsAccelerator;
        gate = new LifetimeGate(this);
        Accelerator = accelerator;
        Kind = KindOf(accelerator);
        Info = Describe(accelerator);
        SelectionReason = selectionReason;
        Launcher = new Launcher(accelerator);
        Tuning = new ConvolutionTuning(this);
    }

    /// <summary>
    /// Gets a process-wide device, created on first use with <see cref="Create()"/> (so it honours
    /// <see cref="EnvironmentVariable"/>); the layer constructor without a device uses it.
    /// </summary>
    public static DeconvDevice Shared => SharedDevice.Value;

    /// <summary>Gets the ILGPU accelerator, for callers who launch their own ILGPU programs or wrap their own buffers.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Gets the accelerator kind.</summary>
    public AcceleratorKind Kind { get; }

    /// <summary>Gets what ILGPU reports about the accelerator.</summary>
    public AcceleratorInfo Info { get; }

    /// <summary>Gets why this accelerator was chosen, e.g. <c>auto: no CUDA device; first OpenCL device</c>.</summary>
    public string SelectionReason { get; }

    /// <summary>Gets the bytes of device memory currently held by buffers this library allocated on this device.</summary>
    public long AllocatedBytes => Interlocked.Read(ref allocatedBytes);

    /// <summary>
    /// Gets or sets the most bytes of device memory the library may hold on this device (weights, gradients,
    /// optimizer state, scratch space, tensors it allocates), or null for no limit but the device's own. An
    /// allocation past it is an <see cref="InsufficientMemoryException"/>, and the call that needed it changes
    /// nothing. Useful to share a GPU with other work.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public long? MemoryLimit
    {
        get => Interlocked.Read(ref memoryLimit) is var v && v >= 0 ? v : null;
        set
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "MemoryLimit must be null or non-negative.");
            }

            Interlocked.Exchange(ref memoryLimit, value ?? -1);
        }
    }

    /// <summary>Gets a value indicating whether <see cref="Dispose"/> has begun on this device.</summary>
    public bool IsDisposed => gate.IsClosed;

    /// <summary>Gets a value indicating whether the device disposes its accelerator (false for <see cref="FromAccelerator"/>).</summary>
    internal bool OwnsAccelerator { get; }

    /// <summary>Gets the launcher of the library's GPU programs on this accelerator.</summary>
    internal Launcher Launcher { get; }

    /// <summary>
    /// Gets the routes measured on this device for <see cref="ConvolutionAlgorithm.Tuned"/>, which can be saved to a
    /// file and loaded by the next process.
    /// </summary>
    public ConvolutionTuning Tuning { get; }

    /// <summary>
    /// Gets or sets which GPU programs the layers on this device run (default <see cref="ConvolutionAlgorithm.Auto"/>).
    /// Takes effect at the next call of each layer; safe to change between calls from any thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined algorithm.</exception>
    /// <exception cref="NotSupportedException">
    /// <see cref="ConvolutionAlgorithm.TiledGemm"/> on an accelerator without groups of 256 threads (such as
    /// the CPU accelerator that <see cref="Create(AcceleratorKind?)"/> makes).
    /// </exception>
    public ConvolutionAlgorithm Algorithm
    {
        get => (ConvolutionAlgorithm)Volatile.Read(ref algorithm);
        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Algorithm must be Auto, Direct, TiledGemm or Tuned.");
            }

            if (value == ConvolutionAlgorithm.TiledGemm && !Launcher.SupportsTiled)
            {
                throw new NotSupportedException(
                    $"Algorithm TiledGemm needs groups of 256 threads with {Programs.Tiled.TiledGemm.SharedBytes} bytes of shared memory; "
                    + $"{Info} allows {Accelerator.MaxNumThreadsPerGroup} threads and {Accelerator.MaxSharedMemoryPerGroup} bytes per group.");
            }

            Volatile.Write(ref algorithm, (int)value);
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether the tiled programs run their tensor-core loops emulated where the
    /// accelerator has no tensor cores (tests of the fragment indexing on the CPU accelerator).
    /// </summary>
    internal bool EmulatesTensorCores { get; set; }

    /// <summary>
    /// Gets a value indicating whether <see cref="ConvolutionPrecision.TensorFloat32"/> layers run the tiled programs'
    /// tensor-core loops: on CUDA devices of compute capability 8.0 and above (or emulated, for tests).
    /// </summary>
    internal bool UsesTensorCores => Launcher.HasTensorCores || (EmulatesTensorCores && Launcher.SupportsTensorCoreLoops);

    /// <summary>
    /// The fewest input channels and filters per group for which <see cref="ConvolutionAlgorithm.Auto"/> runs a
    /// grouped layer's tiled programs: below it a 64-wide tile would be mostly empty (the rule is in <c>Routing/ProgramRoutes</c>).
    /// </summary>
    public const int TiledGroupMinimum = 32;

    /// <summary>The weights of named layers, for TensorFlow's <c>reuse</c>.</summary>
    internal LayerWeightRegistry Weights { get; } = new();

    /// <summary>
    /// Creates a device on the accelerator named by <see cref="EnvironmentVariable"/>, or the automatic choice
    /// (CUDA, else OpenCL, else CPU) when it is unset or <c>auto</c>.
    /// </summary>
    /// <returns>The device; dispose it to release the accelerator.</returns>
    /// <exception cref="ArgumentException">The environment variable holds an unknown value.</exception>
    /// <exception cref="AcceleratorNotFoundException">The requested accelerator kind is not present.</exception>
    public static DeconvDevice Create() => Create(KindFromEnvironment(), fromEnvironment: true);

    /// <summary>Creates a device on the requested kind of accelerator; the environment variable is not consulted.</summary>
    /// <param name="kind">Which accelerator to use; null for the automatic choice (CUDA, else OpenCL, else CPU).</param>
    /// <returns>The device; dispose it to release the accelerator.</returns>
    /// <exception cref="AcceleratorNotFoundException">The requested accelerator kind is not present.</exception>
    public static DeconvDevice Create(AcceleratorKind? kind) => Create(kind, fromEnvironment: false);

    /// <summary>
    /// Wraps an accelerator the caller owns: the device borrows it and never disposes it, so the caller's
    /// own ILGPU buffers and programs live beside the layers'.
    /// </summary>
    /// <param name="accelerator">The accelerator.</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="accelerator"/> is null.</exception>
    public static DeconvDevice FromAccelerator(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return new DeconvDevice(null, accelerator, ownsAccelerator: false, "borrowed from the caller");
    }

    /// <summary>
    /// Creates a device that owns a new accelerator on <paramref name="device"/> but not the caller's context (tests
    /// create and dispose many devices on one context, whose kernel cache then compiles each program once).
    /// </summary>
    internal static DeconvDevice OnContext(Context context, Device device) =>
        new(null, device.CreateAccelerator(context), ownsAccelerator: true, "on the caller's context");

    /// <summary>Reads <see cref="EnvironmentVariable"/>: unset, empty or <c>auto</c> means the automatic choice (null).</summary>
    /// <returns>The kind, or null for the automatic choice.</returns>
    /// <exception cref="ArgumentException">The variable holds something other than auto, cuda, opencl or cpu.</exception>
    public static AcceleratorKind? KindFromEnvironment() =>
        ParseKind(Environment.GetEnvironmentVariable(EnvironmentVariable), EnvironmentVariable);

    /// <summary>Parses <c>auto</c>, <c>cuda</c>, <c>opencl</c> or <c>cpu</c> (any case; empty or <c>auto</c> is null, the automatic choice).</summary>
    /// <param name="text">The text.</param>
    /// <param name="argumentName">What to name in an error.</param>
    /// <returns>The kind, or null for the automatic choice.</returns>
    /// <exception cref="ArgumentException">The text is none of those.</exception>
    public static AcceleratorKind? ParseKind(string? text, string argumentName = "accelerator") =>
        (text ?? string.Empty).Trim().ToUpperInvariant() switch
        {
            "" or "AUTO" => null,
            "CUDA" => AcceleratorKind.Cuda,
            "OPENCL" or "CL" => AcceleratorKind.OpenCL,
            "CPU" => AcceleratorKind.Cpu,
            _ => throw new ArgumentException(
                $"{argumentName} must be auto, cuda, opencl or cpu; got \"{text}\".", argumentName),
        };

    /// <summary>Lists every accelerator ILGPU finds on this machine, CUDA first, then OpenCL, then the CPU accelerator.</summary>
    /// <returns>The accelerators, in the order the automatic choice considers them.</returns>
    public static IReadOnlyList<AcceleratorInfo> ListAccelerators()
    {
        using var context = CreateContext();
        return Ordered(context).Select(device =>
        {
            using var accelerator = device.CreateAccelerator(context);
            return Describe(accelerator);
        }).ToList();
    }

    /// <summary>Waits until every GPU program and copy launched on this device has finished.</summary>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public void Synchronize()
    {
        using var call = EnterCall();
        Accelerator.Synchronize();
    }

    /// <summary>
    /// Releases the accelerator and context when this device created them (their compiled programs and buffers go
    /// with them). New calls on the device are refused from the start; the calls already running finish first.
    /// Safe to call from any thread, and more than once.
    /// </summary>
    public void Dispose() => gate.Close(() =>
    {
        Launcher.Dispose();
        if (OwnsAccelerator)
        {
            Accelerator.Dispose();
            ownedContext?.Dispose();
        }
    });

    /// <summary>Formats the choice, e.g. <c>Cuda: NVIDIA H100 ... [auto: first CUDA device]</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Info} [{SelectionReason}]";

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(IsDisposed, this);

    /// <summary>
    /// Begins a call that touches the accelerator: <see cref="Dispose"/> waits until the returned lease is disposed.
    /// Every public entry into device work takes one (a layer's calls through their own gate, tensors' copies, the tuning file).
    /// </summary>
    /// <exception cref="ObjectDisposedException">Dispose has begun.</exception>
    internal LifetimeGate.Lease EnterCall() => gate.Enter();

    /// <summary>Takes a lease unless Dispose has begun (for work that must not throw, such as freeing); pair a true result with <see cref="ExitCall"/>.</summary>
    internal bool TryEnterCall() => gate.TryEnter();

    /// <summary>Ends a lease taken by <see cref="TryEnterCall"/>.</summary>
    internal void ExitCall() => gate.Exit();

    internal void TrackAllocation(long bytes) => Interlocked.Add(ref allocatedBytes, bytes);

    /// <summary>Counts <paramref name="bytes"/> as allocated unless that would pass <see cref="MemoryLimit"/> (then <paramref name="limit"/> says which).</summary>
    internal bool TryReserve(long bytes, out long limit)
    {
        while (true)
        {
            limit = Interlocked.Read(ref memoryLimit);
            long held = Interlocked.Read(ref allocatedBytes);
            if (limit >= 0 && held + bytes > limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref allocatedBytes, held + bytes, held) == held)
            {
                return true;
            }
        }
    }

    private static DeconvDevice Create(AcceleratorKind? preference, bool fromEnvironment)
    {
        var context = CreateContext();
        try
        {
            var devices = Ordered(context).ToList();
            string source = fromEnvironment
                ? (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(EnvironmentVariable))
                    ? "auto"
                    : $"{EnvironmentVariable}={Environment.GetEnvironmentVariable(EnvironmentVariable)}")
                : $"requested {preference?.ToString() ?? "Auto"}";
            Device chosen;
            string reason;
            switch (preference)
            {
                case null:
                    chosen = devices[0];
                    reason = chosen.AcceleratorType switch
                    {
                        AcceleratorType.Cuda => $"{source}: first CUDA device",
                        AcceleratorType.OpenCL => $"{source}: no CUDA device; first OpenCL device",
                        _ => $"{source}: no CUDA or OpenCL device; CPU accelerator",
                    };
                    break;
                default:
                    var wanted = preference switch
                    {
                        AcceleratorKind.Cuda => AcceleratorType.Cuda,
                        AcceleratorKind.OpenCL => AcceleratorType.OpenCL,
                        _ => AcceleratorType.CPU,
                    };
                    chosen = devices.FirstOrDefault(d => d.AcceleratorType == wanted)
                        ?? throw new AcceleratorNotFoundException(
                            $"No {preference} accelerator found ({source}). ILGPU lists: " +
                            string.Join("; ", devices.Select(d => $"{d.AcceleratorType} {d.Name}")) + ".")
                        {
                            Requested = preference,
                        };
                    reason = $"{source}: first {preference} device";
                    break;
            }

            var accelerator = chosen.CreateAccelerator(context);
            return new DeconvDevice(context, accelerator, ownsAccelerator: true, reason);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>A context with every device kind ILGpuDeconv uses, as <see cref="Create(AcceleratorKind?)"/> makes it.</summary>
    internal static Context CreateContext()
    {
        NativeLibraryResolver.Install();

        return Context.Create(builder => ConfigureContext(builder.Cuda().OpenCL().CPU(Launcher.CpuAcceleratorDevice())));
    }

    /// <summary>The compiler settings every context of the library uses (devices aside), so offline inspection sees what runs.</summary>
    internal static Context.Builder ConfigureContext(Context.Builder builder) => builder.EnableAlgorithms();

    internal static IEnumerable<Device> Ordered(Context context) =>
        context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda)
            .Concat(context.Devices.Where(d => d.AcceleratorType == AcceleratorType.OpenCL))
            .Concat(context.Devices.Where(d => d.AcceleratorType == AcceleratorType.CPU));

    private static AcceleratorKind KindOf(Accelerator accelerator) => accelerator.AcceleratorType switch
    {
        AcceleratorType.Cuda => AcceleratorKind.Cuda,
        AcceleratorType.OpenCL => AcceleratorKind.OpenCL,
        _ => AcceleratorKind.Cpu,
    };

    /// <summary>
    /// The OpenCL driver's version (<c>CL_DRIVER_VERSION</c>; PoCL's own version there), which the device's speed and
    /// therefore a tuning file depend on; "unknown" where the query fails.
    /// </summary>
    private static string DriverVersion(CLAccelerator cl)
    {
        const int DriverVersionQuery = 0x102D; // CL_DRIVER_VERSION, OpenCL 1.0
        try
        {
            return CLAPI.CurrentAPI.GetDeviceInfo(cl.DeviceId, (CLDeviceInfoType)DriverVersionQuery).Trim();
        }
        catch (Exception e) when (e is CLException or InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            return "unknown";
        }
    }

    private static AcceleratorInfo Describe(Accelerator accelerator)
    {
        string name = accelerator switch
        {
            CudaAccelerator cuda => string.Create(
                CultureInfo.InvariantCulture,
                $"{cuda.Name} (architecture {cuda.Architecture}, PTX ISA {cuda.InstructionSet}, driver {cuda.DriverVersion})"),
            CLAccelerator cl => $"{cl.Name} ({cl.VendorName}, {cl.CVersion}, driver {DriverVersion(cl)})",
            _ => accelerator.Name,
        };
        return new AcceleratorInfo(
            KindOf(accelerator),
            name,
            accelerator.MemorySize,
            accelerator.WarpSize,
            accelerator.MaxNumThreadsPerGroup,
            accelerator.NumMultiprocessors);
    }
}
