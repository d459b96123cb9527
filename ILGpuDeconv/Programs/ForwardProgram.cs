namespace ILGpuDeconv.Programs;

/// <summary>
/// The forward pass: <c>y = act(bias + x (*)^T K)</c>, bias and activation fused, optionally also storing
/// the pre-activation for the backward pass. Each item is one output row, one stride phase of the columns,
/// four of that phase's columns and four filters (a 4x4 register block). Because every output in a phase
/// shares the same kernel taps, the item visits only taps that contribute: no tap loop over positions the
/// stride skips. With groups, the group is one more index of the grid, next to the filter block (depthwise
/// layers run <see cref="DepthwiseForwardProgram{TAct, TMem}"/> instead). No atomics: each output is written
/// once, by one item.
/// </summary>
/// <typeparam name="TAct">The activation function fused into the store.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
/// <remarks>Describes the launch; <paramref name="w"/> holds the groups' <c>[kh, kw, C/G, FiltersPadded]</c> layouts one after the other.</remarks>
internal readonly struct ForwardProgram<TAct, TMem>(in Conv2DTransposeParams p, TMem x, TMem w, TMem bias, TMem y, TMem pre, TAct act, ForwardFlags flags) : IGpuProgram
    where TAct : unmanaged, IActivationFunction
    where TMem : struct, ITensorMemory
{
    private readonly Conv2DTransposeParams p = p;
    private readonly TMem x = x;
    private readonly TMem w = w;
    private readonly TMem bias = bias;
    private readonly TMem y = y;
    private readonly TMem pre = pre;
    private readonly TAct act = act;
    private readonly ForwardFlags flags = flags;

    public long Items => p.ForwardItems;

    public void Execute(int item) => Block(item, p, x, w, bias, y, pre, act, flags);

    // Static, with the tensors as parameters: on ILGPU's CPU accelerator the JIT keeps them in registers,
    // where reading them through the struct reloads them on every access (measured 10 % on shape B).
    private static void Block(int item, in Conv2DTransposeParams p, TMem x, TMem w, TMem bias, TMem y, TMem pre, TAct act, ForwardFlags flags)
    {
        int rest = item;
        int filterBlock = rest % p.FilterBlocks;
        rest /= p.FilterBlocks;
        int group = rest % p.Groups;
        var at = new PhaseBlock(p, rest / p.Groups);
        int ow0 = at.FirstColumn;
        if (ow0 >= p.OutWidth)
        {
            return;
        }

        int n = at.N;
        int oh = at.OutRow;
        int f0 = filterBlock * Conv2DTransposeParams.Block;
        int tapRow = at.TapRow;
        int tapColumn = at.TapColumn;
        int qh = at.InputRow;
        int qw0 = at.InputColumn;

        float a00 = 0, a01 = 0, a02 = 0, a03 = 0;
        float a10 = 0, a11 = 0, a12 = 0, a13 = 0;
        float a20 = 0, a21 = 0, a22 = 0, a23 = 0;
        float a30 = 0, a31 = 0, a32 = 0, a33 = 0;

        // Taps of this phase: kernel row a = tapRow + t*TapStepH meets input row i = qh - t*InputStepH (with a
        // stride alone: every StrideH-th row and consecutive inputs; with a dilation alone: every row, inputs DilationH apart).
        for (int a = tapRow, i = qh; a >= 0 && a < p.KernelHeight && i >= 0; a += p.TapStepH, i -= p.InputStepH)
        {
            if (i >= p.InHeight)
            {
                continue;
            }

            for (int b = tapColumn, j = qw0; b >= 0 && b < p.KernelWidth && j + Conv2DTransposeParams.Block - 1 >= 0; b += p.TapStepW, j -= p.InputStepW)
            {
                bool v0 = j >= 0 && j < p.InWidth;
                bool v1 = j + 1 >= 0 && j + 1 < p.InWidth;
                bool v2 = j + 2 >= 0 && j + 2 < p.InWidth;
                bool v3 = j + 3 >= 0 && j + 3 < p.InWidth;
                if (!(v0 | v1 | v2 | v3))
                {
                    continue;
                }

                int xBase = (n * p.XN) + (group * p.InputGroupStep) + (i * p.XH) + (j * p.XW);
                int wBase = ((((group * p.KernelTaps) + (a * p.KernelWidth) + b) * p.InChannels) * p.FiltersPadded) + f0;
                for (int c = 0; c < p.InChannels; c++)
                {
                    int xo = xBase + (c * p.XC);
                    int wo = wBase + (c * p.FiltersPadded);
                    float w0 = w.Load(wo);
                    float w1 = w.Load(wo + 1);
                    float w2 = w.Load(wo + 2);
                    float w3 = w.Load(wo + 3);

                    // A column outside the input skips its products instead of multiplying by zero,
                    // so a NaN or infinite weight reaches only the outputs it really feeds, as in TensorFlow.
                    if (v0)
                    {
                        float x0 = x.Load(xo);
                        a00 += x0 * w0;
                        a01 += x0 * w1;
                        a02 += x0 * w2;
                        a03 += x0 * w3;
                    }

                    if (v1)
                    {
                        float x1 = x.Load(xo + p.XW);
                        a10 += x1 * w0;
                        a11 += x1 * w1;
                        a12 += x1 * w2;
                        a13 += x1 * w3;
                    }

                    if (v2)
                    {
                        float x2 = x.Load(xo + (2 * p.XW));
                        a20 += x2 * w0;
                        a21 += x2 * w1;
                        a22 += x2 * w2;
                        a23 += x2 * w3;
                    }

                    if (v3)
                    {
                        float x3 = x.Load(xo + (3 * p.XW));
                        a30 += x3 * w0;
                        a31 += x3 * w1;
                        a32 += x3 * w2;
                        a33 += x3 * w3;
                    }
                }
            }
        }

        bool addBias = (flags & ForwardFlags.AddBias) != 0;
        int fb = (group * p.Filters) + f0;
        float b0 = addBias && f0 < p.Filters ? bias.Load(fb) : 0f;
        float b1 = addBias && f0 + 1 < p.Filters ? bias.Load(fb + 1) : 0f;
        float b2 = addBias && f0 + 2 < p.Filters ? bias.Load(fb + 2) : 0f;
        float b3 = addBias && f0 + 3 < p.Filters ? bias.Load(fb + 3) : 0f;
        int rowBase = (n * p.YN) + (group * p.OutputGroupStep) + (oh * p.YH);
        StoreColumn(p, y, pre, act, flags, rowBase, ow0, f0, p.Filters, a00 + b0, a01 + b1, a02 + b2, a03 + b3);
        StoreColumn(p, y, pre, act, flags, rowBase, ow0 + p.StrideW, f0, p.Filters, a10 + b0, a11 + b1, a12 + b2, a13 + b3);
        StoreColumn(p, y, pre, act, flags, rowBase, ow0 + (2 * p.StrideW), f0, p.Filters, a20 + b0, a21 + b1, a22 + b2, a23 + b3);
        StoreColumn(p, y, pre, act, flags, rowBase, ow0 + (3 * p.StrideW), f0, p.Filters, a30 + b0, a31 + b1, a32 + b2, a33 + b3);
    }

    /// <summary>
    /// Stores four filters of output column <paramref name="ow"/> (none past the output): the pre-activation when
    /// asked, the activation of it always; filters from <paramref name="filters"/> on do not exist. The depthwise
    /// forward program stores through it too.
    /// </summary>
    internal static void StoreColumn(
        in Conv2DTransposeParams p, TMem y, TMem pre, TAct act, ForwardFlags flags, int rowBase, int ow, int f0, int filters, float v0, float v1, float v2, float v3)
    {
        if (ow >= p.OutWidth)
        {
            return;
        }

        int o = rowBase + (ow * p.YW) + (f0 * p.YC);
        Store(y, pre, act, flags, o, f0 < filters, v0);
        Store(y, pre, act, flags, o + p.YC, f0 + 1 < filters, v1);
        Store(y, pre, act, flags, o + (2 * p.YC), f0 + 2 < filters, v2);
        Store(y, pre, act, flags, o + (3 * p.YC), f0 + 3 < filters, v3);
    }

    private static void Store(TMem y, TMem pre, TAct act, ForwardFlags flags, int offset, bool exists, float value)
    {
        if (!exists)
        {
            return;
        }

        if ((flags & ForwardFlags.StorePreActivation) != 0)
        {
            pre.Store(offset, value);
        }

        y.Store(offset, act.Apply(value));
    }
}

/// <summary>What a forward program does besides the activation.</summary>
[System.Flags]
internal enum ForwardFlags
{
    /// <summary>Only the activation of the sum.</summary>
    None = 0,

    /// <summary>Store the pre-activation too.</summary>
    StorePreActivation = 1,

    /// <summary>Add the bias.</summary>
    AddBias = 2,
}
