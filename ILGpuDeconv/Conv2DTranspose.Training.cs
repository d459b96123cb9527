using System;
using System.Collections.Generic;
using ILGPU;
using ILGpuDeconv.Constraints;
using ILGpuDeconv.Kernels;
using ILGpuDeconv.Optimizers;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv;

/// <content>What optimizers need: the update of the weights and the constraints after it.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>Gets an identity shared by layers that share weights (<c>reuse</c>), so an optimizer step updates them once.</summary>
    internal object WeightsIdentity => registration;

    /// <summary>Checks that the layer can take a step (built, with gradients if trainable).</summary>
    internal void CheckReadyForStep()
    {
        lock (registration.SyncRoot)
        {
            ThrowIfDisposed();
            if (Options.Trainable && CurrentWeights is not { HasGradients: true })
            {
                throw new InvalidOperationException($"Layer '{Name}' has no gradients to apply: run Forward and Backward first.");
            }
        }
    }

    /// <summary>Applies one optimizer step and the constraints; non-trainable layers are left alone.</summary>
    internal void ApplyOptimizerStep(Optimizer optimizer, long step)
    {
        lock (registration.SyncRoot)
        {
            if (!Options.Trainable)
            {
                return;
            }

            var w = RequireBuilt();
            var stream = Stream;
            var slots = w.SlotsFor(optimizer, optimizer.Slots);
            optimizer.Update(kernels, stream, (int)w.KernelShape.ElementCount, w.Kernel.View, w.KernelGradient.View, slots.Kernel, step);
            if (Options.UseBias)
            {
                optimizer.Update(kernels, stream, (int)w.BiasShape.ElementCount, w.Bias.View, w.BiasGradient.View, slots.Bias, step);
            }

            ApplyConstraint(Options.KernelConstraint, w.Kernel.View, w.KernelShape.ToArray());
            if (Options.UseBias)
            {
                ApplyConstraint(Options.BiasConstraint, w.Bias.View, w.BiasShape.ToArray());
            }

            w.Version++;
        }
    }

    private void ApplyConstraint(Constraint? constraint, ArrayView<float> weights, int[] shape)
    {
        if (constraint is null)
        {
            return;
        }

        if (constraint.Kind == ConstraintKind.NonNeg)
        {
            kernels.NonNeg(Stream, (int)weights.Length, weights);
            return;
        }

        int kind = constraint.Kind switch
        {
            ConstraintKind.UnitNorm => NormConstraint.UnitNormKind,
            ConstraintKind.MaxNorm => NormConstraint.MaxNormKind,
            _ => NormConstraint.MinMaxNormKind,
        };
        var settings = new NormConstraint(
            shape, constraint.AxisMask(shape.Length, "constraint"), kind, constraint.MinValue, constraint.MaxValue, constraint.Rate, Constraint.Epsilon);
        kernels.Norm(Stream, settings, weights);
    }
}
