using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>Frees the accelerators after the whole run (a set-up fixture in the root namespace covers every test).</summary>
[SetUpFixture]
public sealed class TestRunTeardown
{
    [OneTimeTearDown]
    public void DisposeDevices() => TestAccelerators.DisposeAll();
}
