using System;
using System.Linq;
using System.Threading.Tasks;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Programs;

/// <summary>
/// The launcher: every work item runs exactly once whatever the grid (fewer threads than items on the CPU
/// accelerator, groups of 128 elsewhere), concurrent launches from many threads stay correct (the launch
/// gate), and its tuning follows the accelerator.
/// </summary>
public sealed class LauncherTests
{
    [Test]
    public void Every_item_runs_exactly_once([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind, [Values(1, 127, 128, 129, 100_003)] int items)
    {
        var device = TestAccelerators.Require(kind);
        using var counts = device.Accelerator.Allocate1D<int>(items);
        counts.MemSetToZero();
        device.Launcher.Launch(device.Accelerator.DefaultStream, new CountProgram(counts.View));
        device.Accelerator.Synchronize();
        var result = counts.GetAsArray1D();
        Assert.That(result.All(c => c == 1), $"{result.Count(c => c != 1)} of {items} items ran other than once");
    }

    [Test]
    public void Launches_from_many_threads_stay_correct([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        const int Items = 4096;
        var buffers = Enumerable.Range(0, 8).Select(_ => device.Accelerator.Allocate1D<int>(Items)).ToList();
        try
        {
            foreach (var buffer in buffers)
            {
                buffer.MemSetToZero();
            }

            device.Accelerator.Synchronize();
            Parallel.ForEach(buffers, buffer =>
            {
                using var stream = device.Accelerator.CreateStream();
                for (int round = 0; round < 5; round++)
                {
                    device.Launcher.Launch(stream, new CountProgram(buffer.View));
                }

                stream.Synchronize();
            });
            Assert.That(buffers.All(b => b.GetAsArray1D().All(c => c == 5)), "every item of every buffer counted five times");
        }
        finally
        {
            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
        }
    }

    [Test]
    public void Pointers_only_on_the_CPU_accelerator_and_a_reduction_target_per_core_there()
    {
        using var cpu = DeconvDevice.Create(AcceleratorKind.Cpu);
        Assert.That(cpu.Launcher.UsesPointers, Is.True);
        Assert.That(cpu.Launcher.ReductionThreads, Is.EqualTo(64L * Environment.ProcessorCount));
        foreach (var kind in new[] { AcceleratorKind.OpenCL, AcceleratorKind.Cuda }.Where(k => TestAccelerators.Selected(k) && DeconvDevice.ListAccelerators().Any(i => i.Kind == k)))
        {
            Assert.That(TestAccelerators.Require(kind).Launcher.UsesPointers, Is.False, kind.ToString());
        }
    }

    /// <summary>Adds one to its item's counter.</summary>
    public readonly struct CountProgram(ArrayView<int> counts) : IGpuProgram
    {
        private readonly ArrayView<int> counts = counts;

        public long Items => counts.Length;

        public void Execute(int item) => counts[item] += 1;
    }
}
