using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>
/// Copies the Keras-layout kernel <c>[kh, kw, F, C]</c> into the layout the forward program reads with unit
/// stride and no bounds checks: per group <c>[kh, kw, C/G, F/G padded to 4]</c>, zeros in the padding, the
/// groups' layouts one after the other.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct ForwardLayoutProgram<TMem>(Conv2DTransposeParams p, TMem kernel, TMem layout) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem kernel = kernel;
    private readonly TMem layout = layout;

    public long Items => p.ForwardLayoutLength * p.Groups;

    public void Execute(int item)
    {
        int f = item % p.FiltersPadded;
        int rest = item / p.FiltersPadded;
        int c = rest % p.InChannels;
        rest /= p.InChannels;
        int tap = rest % p.KernelTaps;
        int group = rest / p.KernelTaps;
        layout.Store(item, f < p.Filters ? kernel.Load((((tap * p.Filters) + f) * p.KernelChannels) + (group * p.InChannels) + c) : 0f);
    }
}

/// <summary>
/// Copies the Keras-layout kernel <c>[kh, kw, F, C]</c> into the layout the input-gradient program reads:
/// per group <c>[kh, kw, F/G, C/G padded to 4]</c>, zeros in the padding, the groups' layouts one after the other.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct InputGradientLayoutProgram<TMem>(Conv2DTransposeParams p, TMem kernel, TMem layout) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem kernel = kernel;
    private readonly TMem layout = layout;

    public long Items => p.InputGradientLayoutLength * p.Groups;

    public void Execute(int item)
    {
        int c = item % p.ChannelsPadded;
        int rest = item / p.ChannelsPadded;
        int f = rest % p.Filters;
        rest /= p.Filters;
        int tap = rest % p.KernelTaps;
        int group = rest / p.KernelTaps;
        layout.Store(item, c < p.InChannels ? kernel.Load((((tap * p.Filters) + f) * p.KernelChannels) + (group * p.InChannels) + c) : 0f);
    }
}
