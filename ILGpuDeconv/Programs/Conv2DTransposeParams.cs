using System;

namespace ILGpuDeconv.Programs;

/// <summary>
/// The sizes the programs of one Conv2DTranspose call need, carried by value in every program. Strides of the
/// input-side (x, dx) and output-side (y, dy) tensors encode the data format, so one program serves both.
/// Index arithmetic fits 32 bits because <see cref="Conv2DTransposeGeometry.Create"/> refused larger tensors.
/// With groups, the sizes are one group's (<see cref="InChannels"/>, <see cref="Filters"/>) and the strides the whole
/// tensors': the direct programs take the group as one more index of their grid (one launch for all groups, so
/// depthwise runs as one launch, not one per channel); the tiled programs run once per group on views offset to
/// the group's channels.
/// </summary>
internal readonly struct Conv2DTransposeParams
{
    /// <summary>The register-blocked programs work on blocks of this many columns by this many channels per item.</summary>
    public const int Block = 4;

    public readonly int Batch;
    public readonly int InHeight;
    public readonly int InWidth;
    public readonly int InChannels;
    public readonly int Filters;
    public readonly int OutHeight;
    public readonly int OutWidth;
    public readonly int KernelHeight;
    public readonly int KernelWidth;
    public readonly int StrideH;
    public readonly int StrideW;
    public readonly int DilationH;
    public readonly int DilationW;
    public readonly int CropTop;
    public readonly int CropLeft;

    /// <summary>The output rows before the full result's first (a negative crop at the top), which only the bias reaches.</summary>
    public readonly int LeadingRows;

    /// <summary>The output columns before the full result's first (a negative crop at the left).</summary>
    public readonly int LeadingColumns;

    /// <summary>Where the interior's first element lies in the whole output tensor (0 unless made with <c>interior</c>).</summary>
    public readonly long OutputOffset;

    /// <summary>The whole output's height (<see cref="OutHeight"/> is the interior's when made with <c>interior</c>).</summary>
    public readonly int WholeOutHeight;

    /// <summary>The whole output's width.</summary>
    public readonly int WholeOutWidth;

    /// <summary>The groups; the other sizes are per group.</summary>
    public readonly int Groups;

    /// <summary>The innermost extent of the Keras kernel <c>[kh, kw, filters / groups, in_channels]</c>: all input channels.</summary>
    public readonly int KernelChannels;

    /// <summary>The distance between chunks of the bias gradient's partial sums: all filters.</summary>
    public readonly int BiasStride;

    // Element strides of x / dx: batch, row, column, channel.
    public readonly int XN;
    public readonly int XH;
    public readonly int XW;
    public readonly int XC;

    // Element strides of y / dy / pre-activation: batch, row, column, filter.
    public readonly int YN;
    public readonly int YH;
    public readonly int YW;
    public readonly int YC;

    /// <summary>Elements between consecutive groups' first channels in x and dx: <c>InChannels * XC</c>.</summary>
    public readonly int InputGroupStep;

    /// <summary>Elements between consecutive groups' first filters in y, dy and the pre-activation: <c>Filters * YC</c>.</summary>
    public readonly int OutputGroupStep;

    /// <summary>Filters rounded up to the block size: the inner extent of the forward weight layout.</summary>
    public readonly int FiltersPadded;

    /// <summary>Channels rounded up to the block size: the inner extent of the input-gradient weight layout.</summary>
    public readonly int ChannelsPadded;

    public readonly int FilterBlocks;
    public readonly int ChannelBlocks;

    /// <summary>Output columns of one stride phase, at most: ceil(OutWidth / StrideW).</summary>
    public readonly int PhaseColumns;

    /// <summary>Blocks of <see cref="Block"/> phase columns.</summary>
    public readonly int PhaseColumnBlocks;

    /// <summary>Blocks of <see cref="Block"/> input columns.</summary>
    public readonly int InColumnBlocks;

    // The taps of one stride phase, along rows and columns: kernel row a meets the phase's outputs when
    // a*d = phase (mod s), which holds for a = first + t*s/g (g = gcd(s, d)); the input row then steps by d/g.
    // With a stride or a dilation alone (all Keras allows), these are the stride and the dilation themselves.
    public readonly int TapStepH;
    public readonly int TapStepW;
    public readonly int InputStepH;
    public readonly int InputStepW;
    private readonly int gcdH;
    private readonly int gcdW;
    private readonly int inverseH;
    private readonly int inverseW;

    /// <summary>The sizes of a call. With <paramref name="interior"/>, those of its convolution programs where padding adds
    /// rows or columns before the full result (a negative crop, <see cref="Conv2DTransposeOptions.Pads"/>): the output
    /// from the first row and column that a product reaches, which <see cref="OutputOffset"/> locates in the whole
    /// output tensor (whose strides stay the same); the leading rows and columns hold only the bias
    /// (<see cref="OutputBorderProgram{TAct, TMem}"/>).</summary>
    public Conv2DTransposeParams(Conv2DTransposeGeometry g, bool interior = false)
    {
        Batch = g.Batch;
        InHeight = g.InputHeight;
        InWidth = g.InputWidth;
        Groups = g.Groups;
        InChannels = g.InputChannels / g.Groups;
        Filters = g.Filters / g.Groups;
        KernelChannels = g.InputChannels;
        BiasStride = g.Filters;
        int allChannels = g.InputChannels, allFilters = g.Filters;
        OutHeight = g.OutputHeight;
        OutWidth = g.OutputWidth;
        KernelHeight = g.KernelSize.Height;
        KernelWidth = g.KernelSize.Width;
        StrideH = g.Strides.Height;
        StrideW = g.Strides.Width;
        DilationH = g.DilationRate.Height;
        DilationW = g.DilationRate.Width;
        CropTop = g.CropBegin.Height;
        CropLeft = g.CropBegin.Width;
        if (g.DataFormat == DataFormat.ChannelsLast)
        {
            XC = 1;
            XW = allChannels;
            XH = InWidth * allChannels;
            XN = InHeight * XH;
            YC = 1;
            YW = allFilters;
            YH = OutWidth * allFilters;
            YN = OutHeight * YH;
        }
        else
        {
            XW = 1;
            XH = InWidth;
            XC = InHeight * InWidth;
            XN = allChannels * XC;
            YW = 1;
            YH = OutWidth;
            YC = OutHeight * OutWidth;
            YN = allFilters * YC;
        }

        // Strides are the whole output's; only then the interior's sizes and crop.
        WholeOutHeight = OutHeight;
        WholeOutWidth = OutWidth;
        LeadingRows = g.CropBegin.Height < 0 ? -g.CropBegin.Height : 0;
        LeadingColumns = g.CropBegin.Width < 0 ? -g.CropBegin.Width : 0;
        if (interior)
        {
            OutHeight -= Math.Min(LeadingRows, OutHeight);
            OutWidth -= Math.Min(LeadingColumns, OutWidth);
            CropTop += LeadingRows;
            CropLeft += LeadingColumns;
            OutputOffset = ((long)LeadingRows * YH) + ((long)LeadingColumns * YW);
        }

        InputGroupStep = InChannels * XC;
        OutputGroupStep = Filters * YC;
        FilterBlocks = (Filters + Block - 1) / Block;
        ChannelBlocks = (InChannels + Block - 1) / Block;
        FiltersPadded = FilterBlocks * Block;
        ChannelsPadded = ChannelBlocks * Block;
        PhaseColumns = (OutWidth + StrideW - 1) / StrideW;
        PhaseColumnBlocks = (PhaseColumns + Block - 1) / Block;
        InColumnBlocks = (InWidth + Block - 1) / Block;
        (gcdH, TapStepH, InputStepH, inverseH) = PhaseSteps(StrideH, DilationH);
        (gcdW, TapStepW, InputStepW, inverseW) = PhaseSteps(StrideW, DilationW);
    }

    /// <summary>The first kernel row meeting the outputs of row phase <paramref name="phase"/> (0 to StrideH - 1), or -1 when none does.</summary>
    public int FirstTapRow(int phase) => phase % gcdH != 0 ? -1 : ((phase / gcdH) * inverseH) % TapStepH;

    /// <summary>The first kernel column meeting the outputs of column phase <paramref name="phase"/>, or -1 when none does.</summary>
    public int FirstTapColumn(int phase) => phase % gcdW != 0 ? -1 : ((phase / gcdW) * inverseW) % TapStepW;

    private static (int Gcd, int TapStep, int InputStep, int Inverse) PhaseSteps(int stride, int dilation)
    {
        int g = stride;
        for (int r = dilation; r != 0;)
        {
            (g, r) = (r, g % r);
        }

        int tapStep = stride / g;
        int inputStep = dilation / g;

        // The inverse of d/g modulo s/g (they are coprime): kernel row (phase/g) * inverse solves a*d = phase (mod s).
        int inverse = 0;
        for (int candidate = 0; candidate < tapStep; candidate++)
        {
            if ((long)candidate * inputStep % tapStep == 1 % tapStep)
            {
                inverse = candidate;
                break;
            }
        }

        return (g, tapStep, inputStep, inverse);
    }

    public int KernelTaps => KernelHeight * KernelWidth;

    /// <summary>The first input column whose output column through kernel column <paramref name="b"/>, j*sw + b*dw - left, lies in [0, OutWidth).</summary>
    public int FirstInputColumn(int b)
    {
        int j = IndexMath.CeilDiv(CropLeft - (b * DilationW), StrideW);
        return j < 0 ? 0 : j;
    }

    /// <summary>The last input column whose output column through kernel column <paramref name="b"/> lies in [0, OutWidth).</summary>
    public int LastInputColumn(int b)
    {
        int j = IndexMath.FloorDiv(OutWidth - 1 + CropLeft - (b * DilationW), StrideW);
        return j > InWidth - 1 ? InWidth - 1 : j;
    }

    /// <summary>Where group <paramref name="group"/>'s channels start in x and dx.</summary>
    public long InputGroupOffset(int group) => (long)group * InputGroupStep;

    /// <summary>Gets whether padding adds output rows or columns before the full result, which only the bias reaches.</summary>
    public bool HasLeadingBorder => LeadingRows > 0 || LeadingColumns > 0;

    /// <summary>Where group <paramref name="group"/>'s filters start in y, dy and the pre-activation.</summary>
    public long OutputGroupOffset(int group) => (long)group * OutputGroupStep;

    /// <summary>Length of one group's forward weight layout <c>[kh, kw, C, FiltersPadded]</c>; the groups' follow each other.</summary>
    public long ForwardLayoutLength => (long)KernelTaps * InChannels * FiltersPadded;

    /// <summary>Length of one group's input-gradient weight layout <c>[kh, kw, F, ChannelsPadded]</c>; the groups' follow each other.</summary>
    public long InputGradientLayoutLength => (long)KernelTaps * Filters * ChannelsPadded;

    /// <summary>Kernel-gradient work items per reduction chunk: one per (tap, group, filter block, channel block).</summary>
    public int KernelGradientItemsPerChunk => KernelTaps * Groups * FilterBlocks * ChannelBlocks;

    /// <summary>Items of the forward program: one per (n, output row, column phase, column block, group, filter block).</summary>
    public long ForwardItems => (long)Batch * OutHeight * StrideW * PhaseColumnBlocks * Groups * FilterBlocks;

    /// <summary>Gets a value indicating whether each group has one input channel (depthwise, any filters per group): the depthwise programs' case.</summary>
    public bool IsDepthwise => InChannels == 1 && Groups > 1;

    /// <summary>Blocks of <see cref="Block"/> filters of the whole output, across groups: the depthwise programs' lanes.</summary>
    public int AllFilterBlocks => (BiasStride + Block - 1) / Block;

    /// <summary>Blocks of <see cref="Block"/> input channels of the whole input, across groups: the depthwise input gradient's lanes.</summary>
    public int AllChannelBlocks => (KernelChannels + Block - 1) / Block;

    /// <summary>Depthwise kernel-gradient work items per reduction chunk: one per (tap, block of filters of the whole output).</summary>
    public int DepthwiseKernelGradientItemsPerChunk => KernelTaps * AllFilterBlocks;

    /// <summary>Items of the input-gradient program: one per (n, input row, column block, group, channel block).</summary>
    public long InputGradientItems => (long)Batch * InHeight * InColumnBlocks * Groups * ChannelBlocks;
}
