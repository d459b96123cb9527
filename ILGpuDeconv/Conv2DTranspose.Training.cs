using System;

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
        lock (registration.SyncRoot)
        {
            ThrowIfDisposed();
            var w = CurrentWeights;
            if (Options.Trainable && w is not { HasGradients: true })
            {
                throw new InvalidOperationException($"Layer '{Name}' has no gradients to apply: run Forward and Backward first.");
            }

            return new WeightSet(w, registration.SyncRoot, Options.Trainable, Options.KernelConstraint, Options.BiasConstraint);
        }
    }
}
