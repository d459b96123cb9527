using System.Linq;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv.Passes;

/// <summary>
/// One optimizer step on one weight set: the optimizer's update of the kernel and the bias from their
/// gradients, then the constraints. Bumps the weights' version so the passes refresh their layouts.
/// </summary>
internal sealed class WeightUpdate(DeconvDevice device)
{
    /// <summary>Launches the step; the caller holds the weights' lock.</summary>
    public void Apply(LayerWeights weights, Optimizer optimizer, long step, Constraint? kernelConstraint, Constraint? biasConstraint)
    {
        if (device.Launcher.UsesPointers)
        {
            Apply<PointerMemory>(weights, optimizer, step, kernelConstraint, biasConstraint);
        }
        else
        {
            Apply<ViewMemory>(weights, optimizer, step, kernelConstraint, biasConstraint);
        }
    }

    private void Apply<TMem>(LayerWeights weights, Optimizer optimizer, long step, Constraint? kernelConstraint, Constraint? biasConstraint)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        var launcher = device.Launcher;
        var stream = device.Accelerator.DefaultStream;
        var slots = weights.SlotsOf(optimizer);
        optimizer.Update(
            launcher, stream, (int)weights.KernelShape.ElementCount, TMem.Bind(weights.Kernel.View), TMem.Bind(weights.KernelGradient.View), [.. slots.Kernel.Select(TMem.Bind)], step);
        if (weights.UseBias)
        {
            optimizer.Update(
                launcher, stream, (int)weights.BiasShape.ElementCount, TMem.Bind(weights.Bias.View), TMem.Bind(weights.BiasGradient.View), [.. slots.Bias.Select(TMem.Bind)], step);
        }

        kernelConstraint?.Apply(launcher, stream, TMem.Bind(weights.Kernel.View), weights.KernelShape.ToArray());
        if (weights.UseBias)
        {
            biasConstraint?.Apply(launcher, stream, TMem.Bind(weights.Bias.View), weights.BiasShape.ToArray());
        }

        weights.Version++;
    }
}
