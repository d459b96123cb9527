using System;
using System.Threading;

namespace ILGpuDeconv;

/// <summary>
/// The lifetime rule of one disposable object, in one place (a reference count, as <c>SafeHandle</c>'s
/// <c>DangerousAddRef</c>/<c>DangerousRelease</c>): every call that touches the object's resources holds a
/// <see cref="Lease"/> while it runs; <see cref="Close"/> refuses new leases at once, waits for the ones in
/// flight to end, and only then lets its caller free. An uncontended lease is two interlocked operations.
/// </summary>
/// <remarks>
/// Leases nest (a call may call another member of the same object), but a nested lease taken after
/// <see cref="Close"/> began is refused like any other: the outer call then ends with the same
/// <see cref="ObjectDisposedException"/>. The library never closes a gate from inside a call holding its lease
/// (that would wait for itself).
/// </remarks>
internal sealed class LifetimeGate
{
    /// <summary>The bit of <see cref="state"/> that says Close began; the bits below count the leases in flight.</summary>
    private const int Closing = 1 << 30;

    private readonly object owner;
    private readonly object sync = new();
    private int state;
    private bool freed;

    /// <summary>Creates the gate of <paramref name="owner"/>, which an <see cref="ObjectDisposedException"/> names.</summary>
    public LifetimeGate(object owner) => this.owner = owner;

    /// <summary>Gets a value indicating whether <see cref="Close"/> began: no new lease is given.</summary>
    public bool IsClosed => (Volatile.Read(ref state) & Closing) != 0;

    /// <summary>Takes a lease for one call, or throws.</summary>
    /// <returns>The lease; dispose it when the call ends.</returns>
    /// <exception cref="ObjectDisposedException">Close began.</exception>
    public Lease Enter() =>
        TryEnter() ? new Lease(this) : throw new ObjectDisposedException(owner.GetType().FullName);

    /// <summary>Takes a lease unless Close began; a true result must be paired with <see cref="Exit"/>.</summary>
    /// <returns>Whether the lease was given.</returns>
    public bool TryEnter()
    {
        if ((Interlocked.Increment(ref state) & Closing) != 0)
        {
            Exit();
            return false;
        }

        return true;
    }

    /// <summary>Closes the gate: refuses new leases, waits until none is in flight, then runs <paramref name="free"/> once.</summary>
    /// <param name="free">What the owner frees; runs on the first closer's thread with no lease in flight.</param>
    /// <remarks>A second, concurrent Close returns once the first one's <paramref name="free"/> has run.</remarks>
    public void Close(Action free)
    {
        int seen = Volatile.Read(ref state);
        while ((seen & Closing) == 0)
        {
            int previous = Interlocked.CompareExchange(ref state, seen | Closing, seen);
            if (previous == seen)
            {
                Drain();
                try
                {
                    free();
                }
                finally
                {
                    lock (sync)
                    {
                        freed = true;
                        Monitor.PulseAll(sync);
                    }
                }

                return;
            }

            seen = previous;
        }

        lock (sync)
        {
            while (!freed)
            {
                Monitor.Wait(sync);
            }
        }
    }

    /// <summary>Ends a lease; the last one out after Close began wakes the closer.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref state) == Closing)
        {
            lock (sync)
            {
                Monitor.PulseAll(sync);
            }
        }
    }

    private void Drain()
    {
        lock (sync)
        {
            while (Volatile.Read(ref state) != Closing)
            {
                Monitor.Wait(sync);
            }
        }
    }

    /// <summary>One call's hold on the gate.</summary>
    internal readonly struct Lease(LifetimeGate? gate) : IDisposable
    {
        /// <summary>Ends the lease.</summary>
        public void Dispose()
        {
            gate?.Exit();
        }
    }
}
