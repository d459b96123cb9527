using System;
using System.Linq;
using NUnit.Framework;
using NUnit.Framework.Interfaces;

[assembly: ILGpuDeconv.Tests.Infrastructure.DeviceMemoryCheck]

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>
/// Every test leaves the device memory it found: the bytes each of the run's shared devices
/// (<see cref="TestAccelerators"/>) holds after a test equal those before it, counted by
/// <see cref="DeconvDevice.AllocatedBytes"/> and never by a finalizer, so a test (or the library under it) that forgets to
/// free fails by name. <see cref="TestRunTeardown"/> checks that the run ends at zero.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class DeviceMemoryCheckAttribute : Attribute, ITestAction
{
    private long[] before = [];

    /// <inheritdoc/>
    public ActionTargets Targets => ActionTargets.Test;

    /// <inheritdoc/>
    public void BeforeTest(ITest test) => before = Held();

    /// <inheritdoc/>
    public void AfterTest(ITest test)
    {
        var after = Held();
        var devices = TestAccelerators.Created.ToList();
        var grown = Enumerable.Range(0, Math.Min(after.Length, devices.Count))
            .Where(i => after[i] != (i < before.Length ? before[i] : 0))
            .Select(i => $"{devices[i].Info.Name}: {(i < before.Length ? before[i] : 0)} -> {after[i]} bytes")
            .ToList();
        if (grown.Count > 0)
        {
            Assert.Fail($"{test.FullName} left device memory behind: {string.Join("; ", grown)}");
        }
    }

    /// <summary>The bytes each shared device holds now, in the order they were created (a new device holds 0 before).</summary>
    private static long[] Held() => [.. TestAccelerators.Created.Select(d => d.IsDisposed ? 0 : d.AllocatedBytes)];
}
