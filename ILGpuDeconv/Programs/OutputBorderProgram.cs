namespace ILGpuDeconv.Programs;

/// <summary>
/// The output rows and columns before the full transposed result (a negative crop, which padding per edge allows): no
/// product reaches them, so each is the activation of the bias (or of zero), stored as the pre-activation too when the
/// backward pass needs it. The convolution programs run on the rest (<see cref="Conv2DTransposeParams.OutputOffset"/>).
/// </summary>
/// <typeparam name="TAct">The activation function.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
/// <remarks>One item per output element of the whole tensor; those outside the border do nothing.</remarks>
internal readonly struct OutputBorderProgram<TAct, TMem>(in Conv2DTransposeParams p, TMem bias, TMem y, TMem pre, TAct act, ForwardFlags flags) : IGpuProgram
    where TAct : unmanaged, IActivationFunction
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem bias = bias;
    private readonly TMem y = y;
    private readonly TMem pre = pre;
    private readonly TAct act = act;
    private readonly ForwardFlags flags = flags;

    public long Items => (long)p.Batch * p.WholeOutHeight * p.WholeOutWidth * p.BiasStride;

    public void Execute(int item)
    {
        int rest = item;
        int f = rest % p.BiasStride;
        rest /= p.BiasStride;
        int ow = rest % p.WholeOutWidth;
        rest /= p.WholeOutWidth;
        int oh = rest % p.WholeOutHeight;
        int n = rest / p.WholeOutHeight;
        if (oh >= p.LeadingRows && ow >= p.LeadingColumns)
        {
            return;
        }

        int o = (n * p.YN) + (oh * p.YH) + (ow * p.YW) + (f * p.YC);
        float value = (flags & ForwardFlags.AddBias) != 0 ? bias.Load(f) : 0f;
        if ((flags & ForwardFlags.StorePreActivation) != 0)
        {
            pre.Store(o, value);
        }

        y.Store(o, act.Apply(value));
    }
}
