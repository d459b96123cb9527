using System;
using System.Collections.Generic;
using System.Linq;

namespace ILGpuDeconv;

/// <content>What an optimizer step needs from the layer: its weight set, checked and with its constraints.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>
    /// Gets the weight set an optimizer updates (one for all layers sharing weights through <c>reuse</c>),
    /// after checking that the layer can take a step.
    /// </summary>
    /// <exception cref="InvalidOperationException">A trainable layer has no gradients yet.</exception>
    internal WeightSet WeightSetForStep()
    {
        using (EnterCall())
        {
            var w = CurrentWeights;
            if (Options.Trainable && w is not { HasGradients: true })
            {
                throw new InvalidOperationException($"Layer '{Name}' has no gradients to apply: run Forward and Backward first.");
            }

            return new WeightSet(w, Options.Trainable, Options.KernelConstraint, Options.BiasConstraint);
        }
    }

    /// <summary>
    /// Begins a call on every layer of an optimizer step at once (<see cref="EnterCall"/> each), in the order the
    /// layers' names were registered on their devices, so that two steps over overlapping layers never wait for
    /// each other in a circle. Disposing the result ends them all; when one layer refuses, the others are released.
    /// </summary>
    /// <exception cref="ObjectDisposedException">A layer or its device was disposed.</exception>
    internal static CallGroup EnterCalls(IEnumerable<Conv2DTranspose> layers)
    {
        var group = new CallGroup();
        try
        {
            foreach (var layer in layers.Distinct().OrderBy(l => l.registration.Order))
            {
                group.Add(layer.EnterCall());
            }

            return group;
        }
        catch
        {
            group.Dispose();
            throw;
        }
    }

    /// <summary>The calls <see cref="EnterCalls"/> began, ended in reverse order.</summary>
    internal sealed class CallGroup : IDisposable
    {
        private readonly List<Call> calls = [];

        public void Dispose()
        {
            for (int i = calls.Count - 1; i >= 0; i--)
            {
                calls[i].Dispose();
            }

            calls.Clear();
        }

        internal void Add(Call call) => calls.Add(call);
    }
}
