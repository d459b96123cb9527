using System.Linq;
using ILGpuDeconv.Constraints;
using ILGpuDeconv.Optimizers;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Passes;

/// <summary>
/// One optimizer step on one weight set: the optimizer's update of the kernel and the bias from their
/// gradients, then the constraints. Bumps the weights' version so the passes refresh their layouts.
/// </summary>
internal abstract class WeightUpdate
{
    private protected WeightUpdate(DeconvDevice device) => Device = device;

    private protected DeconvDevice Device { get; }

    /// <summary>Creates the pass with the memory access of the device's accelerator.</summary>
    public static WeightUpdate Create(DeconvDevice device) =>
        device.Launcher.UsesPointers ? new WeightUpdate<PointerMemory>(device) : new WeightUpdate<ViewMemory>(device);

    /// <summary>Launches the step; the caller holds the weights' lock.</summary>
    public abstract void Apply(LayerWeights weights, Optimizer optimizer, long step, Constraint? kernelConstraint, Constraint? biasConstraint);
}

/// <inheritdoc/>
internal sealed class WeightUpdate<TMem>(DeconvDevice device) : WeightUpdate(device)
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    public override void Apply(LayerWeights weights, Optimizer optimizer, long step, Constraint? kernelConstraint, Constraint? biasConstraint)
    {
        var launcher = Device.Launcher;
        var stream = Device.Accelerator.DefaultStream;
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
