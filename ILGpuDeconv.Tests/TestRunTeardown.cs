using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>Frees the accelerators after the whole run, checking that nothing is left on them (a set-up fixture in the root namespace covers every test).</summary>
[SetUpFixture]
public sealed class TestRunTeardown
{
    [OneTimeTearDown]
    public void DisposeDevices()
    {
        // Every layer and tensor of the run was disposed: each shared device holds nothing (counted, not finalized).
        var held = TestAccelerators.Created.Where(d => !d.IsDisposed && d.AllocatedBytes != 0).Select(d => $"{d.Info.Name}: {d.AllocatedBytes} bytes").ToList();
        TestAccelerators.DisposeAll();
        Assert.That(held, Is.Empty, "device memory still held at the end of the run");
    }
}
