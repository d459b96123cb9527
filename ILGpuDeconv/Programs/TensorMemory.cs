using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs;

/// <summary>
/// How a program reads and writes a float tensor. Programs are generic over it so that each accelerator
/// gets the access that is fastest there: views on GPUs, raw pointers on ILGPU's CPU accelerator
/// (<see cref="Launcher.UsesPointers"/>).
/// </summary>
internal interface ITensorMemory
{
    float Load(int index);

    void Store(int index, float value);
}

/// <summary>Binds an ILGPU view to a memory accessor on the host, before a launch.</summary>
internal interface ITensorMemoryBinder<TSelf>
    where TSelf : struct, ITensorMemory
{
    static abstract TSelf Bind(ArrayView<float> view);
}

/// <summary>Access through an ILGPU <see cref="ArrayView{T}"/>: what CUDA and OpenCL compile to plain loads.</summary>
internal readonly struct ViewMemory : ITensorMemory, ITensorMemoryBinder<ViewMemory>
{
    private readonly ArrayView<float> view;

    private ViewMemory(ArrayView<float> view) => this.view = view;

    public static ViewMemory Bind(ArrayView<float> view) => new(view);

    public float Load(int index) => view[index];

    public void Store(int index, float value) => view[index] = value;
}

/// <summary>
/// Access through the buffer's address, for ILGPU's CPU accelerator only. There the program runs as .NET
/// code and the view indexer's checks (two <c>Trace.Assert</c> calls per element) cost about 3x on a
/// register-blocked program; indices are checked once, on the host, when the parameters are built.
/// </summary>
internal readonly unsafe struct PointerMemory : ITensorMemory, ITensorMemoryBinder<PointerMemory>
{
    private readonly long address;

    private PointerMemory(long address) => this.address = address;

    public static PointerMemory Bind(ArrayView<float> view) => new(view.LoadEffectiveAddressAsPtr().ToInt64());

    public float Load(int index) => ((float*)address)[index];

    public void Store(int index, float value) => ((float*)address)[index] = value;
}
