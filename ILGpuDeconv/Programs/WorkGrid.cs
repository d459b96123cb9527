using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>A launch's shape as the grid-stride loop sees it: the item count and the stride (threads in all).</summary>
internal readonly struct WorkGrid
{
    public readonly int Total;
    public readonly int Stride;
    private readonly int groups;
    private readonly int groupSize;

    public WorkGrid(int total, int groups, int groupSize)
    {
        Total = total;
        this.groups = groups;
        this.groupSize = groupSize;
        Stride = groups * groupSize;
    }

    /// <summary>Gets the launch configuration.</summary>
    public KernelConfig Config => new(groups, groupSize);
}
