using System;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// The launch of a kernel over a number of work items: the group size chosen for the accelerator, and
/// as many groups as the items need, or fewer, each thread then taking items
/// <c>first, first + Stride, ...</c>. ILGPU's CPU accelerator simulates every GPU thread in software, at
/// a fixed cost of a few hundred nanoseconds each, so it gets a few threads per core that loop over many
/// items. Groups are explicit because ILGPU's automatic size on PoCL is one group of up to 4096 work
/// items, which runs on a single core.
/// </summary>
internal readonly struct WorkGrid
{
    /// <summary>Threads per core on the CPU accelerator: enough to balance uneven items, few enough to amortise their cost.</summary>
    public const int CpuThreadsPerCore = 8;

    /// <summary>Work items per group on OpenCL and CUDA devices.</summary>
    public const int GpuGroupSize = 128;

    public readonly int Total;
    public readonly int Stride;
    private readonly int groups;
    private readonly int groupSize;

    private WorkGrid(int total, int groups, int groupSize)
    {
        Total = total;
        this.groups = groups;
        this.groupSize = groupSize;
        Stride = groups * groupSize;
    }

    /// <summary>Gets the launch configuration.</summary>
    public KernelConfig Config => new(groups, groupSize);

    public static WorkGrid For(long total, Accelerator accelerator)
    {
        int items = Math.Max(1, checked((int)total));
        if (accelerator.AcceleratorType == AcceleratorType.CPU)
        {
            int size = accelerator.MaxNumThreadsPerGroup;
            int threads = Math.Min(items, CpuThreadsPerCore * Environment.ProcessorCount);
            return new WorkGrid(items, (threads + size - 1) / size, size);
        }

        int group = Math.Min(GpuGroupSize, accelerator.MaxNumThreadsPerGroup);
        return new WorkGrid(items, (items + group - 1) / group, group);
    }
}
