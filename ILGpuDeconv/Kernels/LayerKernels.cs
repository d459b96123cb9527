using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Every kernel one layer launches, bound to its accelerator's memory accessor and its activation, behind
/// a non-generic face so the layer needs no generics. The compiled kernels come from the device's cache.
/// </summary>
internal abstract class LayerKernels
{
    public abstract void Forward(
        AcceleratorStream stream, in DeconvParams p, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, ArrayView<float> preActivation, bool storePreActivation, bool addBias);

    public abstract void ActivationGradient(
        AcceleratorStream stream, int length, ActivityPenalty penalty, ArrayView<float> outputGradient, ArrayView<float> preActivation, ArrayView<float> result);

    public abstract void InputGradient(
        AcceleratorStream stream, in DeconvParams p, ArrayView<float> outputGradient, ArrayView<float> weights, ArrayView<float> inputGradient);

    public abstract void WeightGradients(
        AcceleratorStream stream, in DeconvParams p, ChunkPlan kernelChunks, ChunkPlan biasChunks, ArrayView<float> input, ArrayView<float> outputGradient,
        ArrayView<float> kernelPartials, ArrayView<float> biasPartials);

    public abstract void FinishGradients(
        AcceleratorStream stream, GradientFinish kernel, GradientFinish bias,
        (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) kernelViews,
        (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) biasViews);

    public abstract void WeightLayouts(
        AcceleratorStream stream, in DeconvParams p, ArrayView<float> kernel, ArrayView<float> forwardLayout, ArrayView<float> inputGradientLayout);

    public abstract void Softmax(AcceleratorStream stream, SoftmaxRows rows, ArrayView<float> preActivation, ArrayView<float> output);

    public abstract void SoftmaxGradient(
        AcceleratorStream stream, SoftmaxRows rows, ActivityPenalty penalty, ArrayView<float> outputGradient, ArrayView<float> preActivation, ArrayView<float> result);

    public abstract void Sgd(AcceleratorStream stream, int length, SgdStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> velocity);

    public abstract void Adam(
        AcceleratorStream stream, int length, AdamStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v);

    public abstract void NonNeg(AcceleratorStream stream, int length, ArrayView<float> weights);

    public abstract void Norm(AcceleratorStream stream, NormConstraint settings, ArrayView<float> weights);

    /// <summary>Loads (or takes from the cache) the kernels for a device and an activation.</summary>
    public static LayerKernels Create(DeconvDevice device, Activation activation) =>
        device.Kind == AcceleratorKind.Cpu
            ? activation.Accept(new Factory<PointerMemory>(device))
            : activation.Accept(new Factory<ViewMemory>(device));

    private sealed class Factory<TMem>(DeconvDevice device) : IActivationVisitor<LayerKernels>
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        public LayerKernels Visit<TAct>(TAct function)
            where TAct : unmanaged, IActivationFunction => new Bound<TAct, TMem>(device, function);
    }

    private sealed class Bound<TAct, TMem> : LayerKernels
        where TAct : unmanaged, IActivationFunction
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        private readonly TAct activation;
        private readonly object gate;
        private readonly ForwardKernel<TAct, TMem> forward;
        private readonly ActivationGradientKernel<TAct, TMem> activationGradient;
        private readonly InputGradientKernel<TMem> inputGradient;
        private readonly KernelGradientKernel<TMem> kernelGradient;
        private readonly ReductionKernels<TMem> reductions;
        private readonly WeightLayoutKernels<TMem> layouts;
        private readonly OptimizerKernels<TMem> optimizers;
        private readonly ConstraintKernels<TMem> constraints;
        private readonly SoftmaxKernels<TMem> softmax;

        public Bound(DeconvDevice device, TAct activation)
        {
            var cache = device.Kernels;
            gate = device.LaunchGate;
            this.activation = activation;
            forward = cache.Get(a => new ForwardKernel<TAct, TMem>(a));
            activationGradient = cache.Get(a => new ActivationGradientKernel<TAct, TMem>(a));
            inputGradient = cache.Get(a => new InputGradientKernel<TMem>(a));
            kernelGradient = cache.Get(a => new KernelGradientKernel<TMem>(a));
            reductions = cache.Get(a => new ReductionKernels<TMem>(a));
            layouts = cache.Get(a => new WeightLayoutKernels<TMem>(a));
            optimizers = cache.Get(a => new OptimizerKernels<TMem>(a));
            constraints = cache.Get(a => new ConstraintKernels<TMem>(a));
            softmax = cache.Get(a => new SoftmaxKernels<TMem>(a));
        }

        public override void Forward(
            AcceleratorStream stream, in DeconvParams p, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
            ArrayView<float> output, ArrayView<float> preActivation, bool storePreActivation, bool addBias)
        {
            lock (gate)
            {
                forward.Launch(
                    stream, p, input, weights, bias, output, preActivation, activation,
                    (storePreActivation ? ForwardKernel<TAct, TMem>.StorePreActivation : 0) | (addBias ? ForwardKernel<TAct, TMem>.AddBias : 0));
            }
        }

        public override void ActivationGradient(
            AcceleratorStream stream, int length, ActivityPenalty penalty, ArrayView<float> outputGradient, ArrayView<float> preActivation, ArrayView<float> result)
        {
            lock (gate)
            {
                activationGradient.Launch(stream, length, penalty, outputGradient, preActivation, result, activation);
            }
        }

        public override void InputGradient(
            AcceleratorStream stream, in DeconvParams p, ArrayView<float> outputGradient, ArrayView<float> weights, ArrayView<float> inputGradient)
        {
            lock (gate)
            {
                this.inputGradient.Launch(stream, p, outputGradient, weights, inputGradient);
            }
        }

        public override void WeightGradients(
            AcceleratorStream stream, in DeconvParams p, ChunkPlan kernelChunks, ChunkPlan biasChunks, ArrayView<float> input, ArrayView<float> outputGradient,
            ArrayView<float> kernelPartials, ArrayView<float> biasPartials)
        {
            lock (gate)
            {
                kernelGradient.Launch(stream, p, kernelChunks, biasChunks, input, outputGradient, kernelPartials, biasPartials);
            }
        }

        public override void FinishGradients(
            AcceleratorStream stream, GradientFinish kernel, GradientFinish bias,
            (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) kernelViews,
            (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) biasViews)
        {
            lock (gate)
            {
                reductions.LaunchFinish(stream, kernel, bias, kernelViews, biasViews);
            }
        }

        public override void WeightLayouts(
            AcceleratorStream stream, in DeconvParams p, ArrayView<float> kernel, ArrayView<float> forwardLayout, ArrayView<float> inputGradientLayout)
        {
            lock (gate)
            {
                layouts.LaunchForwardLayout(stream, p, kernel, forwardLayout);
                layouts.LaunchInputGradientLayout(stream, p, kernel, inputGradientLayout);
            }
        }

        public override void Softmax(AcceleratorStream stream, SoftmaxRows rows, ArrayView<float> preActivation, ArrayView<float> output)
        {
            lock (gate)
            {
                softmax.LaunchForward(stream, rows, preActivation, output);
            }
        }

        public override void SoftmaxGradient(
            AcceleratorStream stream, SoftmaxRows rows, ActivityPenalty penalty, ArrayView<float> outputGradient, ArrayView<float> preActivation, ArrayView<float> result)
        {
            lock (gate)
            {
                softmax.LaunchBackward(stream, rows, penalty, outputGradient, preActivation, result);
            }
        }

        public override void Sgd(AcceleratorStream stream, int length, SgdStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> velocity)
        {
            lock (gate)
            {
                optimizers.LaunchSgd(stream, length, step, weights, gradient, velocity);
            }
        }

        public override void Adam(
            AcceleratorStream stream, int length, AdamStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v)
        {
            lock (gate)
            {
                optimizers.LaunchAdam(stream, length, step, weights, gradient, m, v);
            }
        }

        public override void NonNeg(AcceleratorStream stream, int length, ArrayView<float> weights)
        {
            lock (gate)
            {
                constraints.LaunchNonNeg(stream, length, weights);
            }
        }

        public override void Norm(AcceleratorStream stream, NormConstraint settings, ArrayView<float> weights)
        {
            lock (gate)
            {
                constraints.LaunchNorm(stream, settings, weights);
            }
        }
    }
}
