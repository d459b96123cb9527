namespace ILGpuDeconv.Programs;

/// <summary>
/// Where a forward item works: one output row and four output columns of one stride phase (StrideW apart),
/// with the phase's first kernel taps and the input row and column they meet. Every output of a phase shares
/// its taps, so the item visits only taps that contribute.
/// </summary>
internal readonly struct PhaseBlock
{
    /// <summary>The batch index.</summary>
    public readonly int N;

    /// <summary>The output row.</summary>
    public readonly int OutRow;

    /// <summary>The block's first output column; at or past <c>OutWidth</c> when the block is empty.</summary>
    public readonly int FirstColumn;

    /// <summary>The first kernel row meeting this row's phase, or -1 when none does.</summary>
    public readonly int TapRow;

    /// <summary>The first kernel column meeting this column phase, or -1 when none does.</summary>
    public readonly int TapColumn;

    /// <summary>The input row <see cref="TapRow"/> meets (-1 without taps).</summary>
    public readonly int InputRow;

    /// <summary>The input column <see cref="TapColumn"/> meets at <see cref="FirstColumn"/>.</summary>
    public readonly int InputColumn;

    /// <summary>Decodes <paramref name="index"/>, an index over (n, output row, column phase, column block).</summary>
    public PhaseBlock(in Conv2DTransposeParams p, int index)
    {
        int columnBlock = index % p.PhaseColumnBlocks;
        int rest = index / p.PhaseColumnBlocks;
        int phaseW = rest % p.StrideW;
        rest /= p.StrideW;
        OutRow = rest % p.OutHeight;
        N = rest / p.OutHeight;

        // Output column ow sits in phase (ow + CropLeft) % StrideW; the block's four columns are
        // consecutive members of this phase.
        int firstInPhase = phaseW - (p.CropLeft % p.StrideW);
        if (firstInPhase < 0)
        {
            firstInPhase += p.StrideW;
        }

        FirstColumn = firstInPhase + (columnBlock * Conv2DTransposeParams.Block * p.StrideW);
        int rowPos = OutRow + p.CropTop;

        // The phase's first taps and the input row and column they meet (exact divisions).
        TapRow = p.FirstTapRow(rowPos % p.StrideH);
        TapColumn = p.FirstTapColumn(phaseW);
        InputRow = TapRow < 0 ? -1 : (rowPos - (TapRow * p.DilationH)) / p.StrideH;
        InputColumn = (FirstColumn + p.CropLeft - (TapColumn * p.DilationW)) / p.StrideW;
    }
}
