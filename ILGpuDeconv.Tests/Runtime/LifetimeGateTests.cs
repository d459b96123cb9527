using System;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Runtime;

/// <summary>The reference count behind every disposable's lifetime rule: leases, a closing that drains them, one free.</summary>
public sealed class LifetimeGateTests
{
    [Test]
    public void Close_waits_for_the_leases_in_flight_and_refuses_new_ones()
    {
        var gate = new LifetimeGate(new object());
        var lease = gate.Enter();
        int freed = 0;
        var closing = Task.Run(() => gate.Close(() => Interlocked.Increment(ref freed)));
        Assert.That(SpinWait.SpinUntil(() => gate.IsClosed, TimeSpan.FromSeconds(10)), "Close began");
        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => gate.Enter().Dispose(), "no lease once Close began");
            Assert.That(gate.TryEnter(), Is.False);
            Assert.That(closing.Wait(200), Is.False, "Close waits for the lease in flight");
            Assert.That(freed, Is.Zero, "nothing is freed under a lease");
        });
        lease.Dispose();
        Assert.That(closing.Wait(TimeSpan.FromSeconds(10)), "the last lease out ends the wait");
        Assert.That(freed, Is.EqualTo(1));
    }

    [Test]
    public void Concurrent_closes_free_once_and_all_return_after_the_free()
    {
        var gate = new LifetimeGate(new object());
        int freed = 0;
        using var inFree = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var first = Task.Run(() => gate.Close(() =>
        {
            inFree.Set();
            finish.Wait();
            Interlocked.Increment(ref freed);
        }));
        inFree.Wait();
        var second = Task.Run(() => gate.Close(() => Interlocked.Increment(ref freed)));
        Assert.That(second.Wait(200), Is.False, "a second Close returns only once the first one's free has run");
        finish.Set();
        Assert.That(Task.WaitAll([first, second], TimeSpan.FromSeconds(10)));
        Assert.That(freed, Is.EqualTo(1));
    }

    [Test]
    public void Nested_leases_count_and_the_gate_opens_only_to_its_owner()
    {
        var owner = new object();
        var gate = new LifetimeGate(owner);
        using (gate.Enter())
        {
            using (gate.Enter())
            {
            }
        }

        gate.Close(() => { });
        var ex = Assert.Throws<ObjectDisposedException>(() => gate.Enter().Dispose())!;
        Assert.That(ex.ObjectName, Is.EqualTo(typeof(object).FullName));
    }
}
