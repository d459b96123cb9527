using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>
/// Copies the Keras-layout kernel <c>[kh, kw, F, C]</c> into the layout the forward programs read with unit
/// stride and no bounds checks: <c>[kh, kw, C, F padded to 4]</c>, zeros in the padding. Sets
/// <c>nonFinite[0]</c> to 1 when a weight is infinite or NaN (the tiled programs are exact only without).
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct ForwardLayoutProgram<TMem>(Conv2DTransposeParams p, TMem kernel, TMem layout, TMem nonFinite) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem kernel = kernel;
    private readonly TMem layout = layout;
    private readonly TMem nonFinite = nonFinite;

    public long Items => p.ForwardLayoutLength;

    public void Execute(int item)
    {
        int f = item % p.FiltersPadded;
        int rest = item / p.FiltersPadded;
        int c = rest % p.InChannels;
        int tap = rest / p.InChannels;
        float value = f < p.Filters ? kernel.Load((((tap * p.Filters) + f) * p.InChannels) + c) : 0f;
        WeightCheck.Flag(nonFinite, value);
        layout.Store(item, value);
    }
}

/// <summary>
/// Copies the Keras-layout kernel <c>[kh, kw, F, C]</c> into the layout the input-gradient programs read:
/// <c>[kh, kw, F, C padded to 4]</c>, zeros in the padding; flags non-finite weights as
/// <see cref="ForwardLayoutProgram{TMem}"/> does.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct InputGradientLayoutProgram<TMem>(Conv2DTransposeParams p, TMem kernel, TMem layout, TMem nonFinite) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem kernel = kernel;
    private readonly TMem layout = layout;
    private readonly TMem nonFinite = nonFinite;

    public long Items => p.InputGradientLayoutLength;

    public void Execute(int item)
    {
        int c = item % p.ChannelsPadded;
        int rest = item / p.ChannelsPadded;
        int f = rest % p.Filters;
        int tap = rest / p.Filters;
        float value = c < p.InChannels ? kernel.Load((((tap * p.Filters) + f) * p.InChannels) + c) : 0f;
        WeightCheck.Flag(nonFinite, value);
        layout.Store(item, value);
    }
}

/// <summary>The non-finite weight flag the layout programs set.</summary>
internal static class WeightCheck
{
    /// <summary>Stores 1 into <c>flag[0]</c> when <paramref name="value"/> is infinite or NaN (every writer writes the same value).</summary>
    public static void Flag<TMem>(TMem flag, float value)
        where TMem : struct, ITensorMemory
    {
        if ((Interop.FloatAsInt(value) & 0x7F800000) == 0x7F800000)
        {
            flag.Store(0, 1f);
        }
    }
}
