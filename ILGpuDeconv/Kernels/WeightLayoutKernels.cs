using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Copies the Keras-layout kernel <c>[kh, kw, F, C]</c> into the layouts the passes read with unit
/// stride and no bounds checks: <c>[kh, kw, C, F padded to 4]</c> (forward) and
/// <c>[kh, kw, F, C padded to 4]</c> (input gradient), zeros in the padding.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class WeightLayoutKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, DeconvParams, TMem, TMem> forwardLayout;
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, DeconvParams, TMem, TMem> inputGradientLayout;
    private readonly Accelerator accelerator;

    public WeightLayoutKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        forwardLayout = accelerator.LoadKernel<WorkGrid, DeconvParams, TMem, TMem>(ForwardLayout);
        inputGradientLayout = accelerator.LoadKernel<WorkGrid, DeconvParams, TMem, TMem>(InputGradientLayout);
    }

    public void LaunchForwardLayout(AcceleratorStream stream, in DeconvParams p, ArrayView<float> kernel, ArrayView<float> layout)
    {
        var grid = WorkGrid.For(p.ForwardLayoutLength, accelerator);
        forwardLayout(stream, grid.Config, grid, p, TMem.Bind(kernel), TMem.Bind(layout));
    }

    public void LaunchInputGradientLayout(AcceleratorStream stream, in DeconvParams p, ArrayView<float> kernel, ArrayView<float> layout)
    {
        var grid = WorkGrid.For(p.InputGradientLayoutLength, accelerator);
        inputGradientLayout(stream, grid.Config, grid, p, TMem.Bind(kernel), TMem.Bind(layout));
    }

    private static void ForwardLayout(WorkGrid grid, DeconvParams p, TMem k, TMem layout)
    {
        for (int index = ILGPU.Grid.GlobalIndex.X; index < grid.Total; index += grid.Stride)
        {
            ForwardLayoutOne(index, p, k, layout);
        }
    }

    private static void InputGradientLayout(WorkGrid grid, DeconvParams p, TMem k, TMem layout)
    {
        for (int index = ILGPU.Grid.GlobalIndex.X; index < grid.Total; index += grid.Stride)
        {
            InputGradientLayoutOne(index, p, k, layout);
        }
    }

    private static void ForwardLayoutOne(int index, in DeconvParams p, TMem k, TMem layout)
    {
        int f = index % p.FiltersPadded;
        int rest = index / p.FiltersPadded;
        int c = rest % p.InChannels;
        int tap = rest / p.InChannels;
        layout.Store(index, f < p.Filters ? k.Load((((tap * p.Filters) + f) * p.InChannels) + c) : 0f);
    }

    private static void InputGradientLayoutOne(int index, in DeconvParams p, TMem k, TMem layout)
    {
        int c = index % p.ChannelsPadded;
        int rest = index / p.ChannelsPadded;
        int f = rest % p.Filters;
        int tap = rest / p.Filters;
        layout.Store(index, c < p.InChannels ? k.Load((((tap * p.Filters) + f) * p.InChannels) + c) : 0f);
    }
}
