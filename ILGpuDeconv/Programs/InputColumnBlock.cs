namespace ILGpuDeconv.Programs;

/// <summary>
/// The output columns that four consecutive input columns <c>j0</c> to <c>j0 + 3</c> meet through one kernel
/// column (StrideW apart), and which of them exist: inside the output, from a column inside the input. The
/// input-gradient programs form products only for those, so that a cropped column adds no <c>0 * NaN</c>.
/// </summary>
internal readonly struct InputColumnBlock
{
    /// <summary>The output column of input column <c>j0</c> (possibly outside the output).</summary>
    public readonly int FirstOutputColumn;

    public readonly bool V0;
    public readonly bool V1;
    public readonly bool V2;
    public readonly bool V3;

    /// <summary>The block of input columns from <paramref name="j0"/> through kernel column <paramref name="b"/>.</summary>
    public InputColumnBlock(in Conv2DTransposeParams p, int j0, int b)
    {
        int ow = (j0 * p.StrideW) + (b * p.DilationW) - p.CropLeft;
        FirstOutputColumn = ow;
        V0 = ow >= 0 && ow < p.OutWidth && j0 < p.InWidth;
        V1 = ow + p.StrideW >= 0 && ow + p.StrideW < p.OutWidth && j0 + 1 < p.InWidth;
        V2 = ow + (2 * p.StrideW) >= 0 && ow + (2 * p.StrideW) < p.OutWidth && j0 + 2 < p.InWidth;
        V3 = ow + (3 * p.StrideW) >= 0 && ow + (3 * p.StrideW) < p.OutWidth && j0 + 3 < p.InWidth;
    }

    /// <summary>Gets a value indicating whether any of the four columns exists.</summary>
    public bool Any => V0 | V1 | V2 | V3;
}
