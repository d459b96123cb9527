using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// In-place weight updates, one thread per weight, with Keras 3's formulas: SGD (with momentum and
/// Nesterov) and Adam. Scalars that depend on the step count are computed on the host in double.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class OptimizerKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, SgdStep, TMem, TMem, TMem> sgd;
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, AdamStep, TMem, TMem, TMem, TMem> adam;
    private readonly Accelerator accelerator;

    public OptimizerKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        sgd = accelerator.LoadKernel<WorkGrid, SgdStep, TMem, TMem, TMem>(Sgd);
        adam = accelerator.LoadKernel<WorkGrid, AdamStep, TMem, TMem, TMem, TMem>(Adam);
    }

    public void LaunchSgd(AcceleratorStream stream, int length, SgdStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> velocity)
    {
        var grid = WorkGrid.For(length, accelerator);
        sgd(stream, grid.Config, grid, step, TMem.Bind(weights), TMem.Bind(gradient), TMem.Bind(velocity));
    }

    public void LaunchAdam(
        AcceleratorStream stream, int length, AdamStep step, ArrayView<float> weights, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v)
    {
        var grid = WorkGrid.For(length, accelerator);
        adam(stream, grid.Config, grid, step, TMem.Bind(weights), TMem.Bind(gradient), TMem.Bind(m), TMem.Bind(v));
    }

    private static void Sgd(WorkGrid grid, SgdStep s, TMem w, TMem g, TMem velocity)
    {
        for (int i = ILGPU.Grid.GlobalIndex.X; i < grid.Total; i += grid.Stride)
        {
            SgdOne(i, s, w, g, velocity);
        }
    }

    private static void Adam(WorkGrid grid, AdamStep s, TMem w, TMem g, TMem m, TMem v)
    {
        for (int i = ILGPU.Grid.GlobalIndex.X; i < grid.Total; i += grid.Stride)
        {
            AdamOne(i, s, w, g, m, v);
        }
    }

    private static void SgdOne(int i, in SgdStep s, TMem w, TMem g, TMem velocity)
    {
        float grad = g.Load(i);
        if (s.Momentum == 0f)
        {
            w.Store(i, w.Load(i) - (s.LearningRate * grad));
            return;
        }

        float m = (s.Momentum * velocity.Load(i)) - (s.LearningRate * grad);
        velocity.Store(i, m);
        w.Store(i, w.Load(i) + (s.Nesterov != 0 ? (s.Momentum * m) - (s.LearningRate * grad) : m));
    }

    private static void AdamOne(int i, in AdamStep s, TMem w, TMem g, TMem m, TMem v)
    {
        float grad = g.Load(i);
        float mean = m.Load(i);
        float variance = v.Load(i);
        mean += (grad - mean) * (1f - s.Beta1);
        variance += ((grad * grad) - variance) * (1f - s.Beta2);
        m.Store(i, mean);
        v.Store(i, variance);
        w.Store(i, w.Load(i) - (mean * s.Alpha / (System.MathF.Sqrt(variance) + s.Epsilon)));
    }
}

/// <summary>One SGD step's scalars.</summary>
internal readonly struct SgdStep(float learningRate, float momentum, bool nesterov)
{
    public readonly float LearningRate = learningRate;
    public readonly float Momentum = momentum;
    public readonly int Nesterov = nesterov ? 1 : 0;
}

/// <summary>One Adam step's scalars; <see cref="Alpha"/> is <c>lr * sqrt(1 - beta2^t) / (1 - beta1^t)</c>.</summary>
internal readonly struct AdamStep(float alpha, float beta1, float beta2, float epsilon)
{
    public readonly float Alpha = alpha;
    public readonly float Beta1 = beta1;
    public readonly float Beta2 = beta2;
    public readonly float Epsilon = epsilon;
}
