using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Numerics;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// The gradient at the pre-activation: <c>dz = (dy + d(activity penalty)/dy) * act'(z)</c>, with
/// <c>y = act(z)</c> recomputed from the stored pre-activation (so the caller's output tensor may be
/// reused between the passes).
/// </summary>
/// <typeparam name="TAct">The activation function.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class ActivationGradientKernel<TAct, TMem>
    where TAct : unmanaged, IActivationFunction
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, ActivityPenalty, TMem, TMem, TMem, TAct> kernel;
    private readonly Accelerator accelerator;

    public ActivationGradientKernel(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        kernel = accelerator.LoadKernel<WorkGrid, ActivityPenalty, TMem, TMem, TMem, TAct>(Run);
    }

    public void Launch(
        AcceleratorStream stream,
        int length,
        ActivityPenalty penalty,
        ArrayView<float> outputGradient,
        ArrayView<float> preActivation,
        ArrayView<float> result,
        TAct activation)
    {
        var grid = WorkGrid.For(length, accelerator);
        kernel(stream, grid.Config, grid, penalty, TMem.Bind(outputGradient), TMem.Bind(preActivation), TMem.Bind(result), activation);
    }

    private static void Run(WorkGrid grid, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz, TAct act)
    {
        for (int index = ILGPU.Grid.GlobalIndex.X; index < grid.Total; index += grid.Stride)
        {
            Element(index, penalty, dy, pre, dz, act);
        }
    }

    private static void Element(int index, in ActivityPenalty penalty, TMem dy, TMem pre, TMem dz, TAct act)
    {
        float z = pre.Load(index);
        float y = act.Apply(z);
        float g = dy.Load(index);
        // A select, not a branch: with the activation's value used only inside a branch, PoCL 6's LLVM aborts
        // ("Instruction Combining did not reach a fixpoint") on the gelu, softplus and mish gradient kernels.
        float penalised = g + (penalty.L1 * DeviceMath.Sign(y)) + (2f * penalty.L2 * y);
        g = penalty.L1 != 0f || penalty.L2 != 0f ? penalised : g;
        dz.Store(index, g * act.Derivative(z, y));
    }
}

/// <summary>The activity regularizer's factors, already divided by the batch size.</summary>
internal readonly struct ActivityPenalty(float l1, float l2)
{
    public readonly float L1 = l1;
    public readonly float L2 = l2;
}
