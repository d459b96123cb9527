namespace ILGpuDeconv.Programs;

/// <summary>
/// Keras 3's SGD (with momentum and Nesterov) in place, one item per weight. The velocity may alias the
/// gradient when the momentum is 0 (it is then not touched).
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct SgdProgram<TMem>(int length, SgdStep s, TMem w, TMem g, TMem velocity) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly int length = length;
    private readonly SgdStep s = s;
    private readonly TMem w = w;
    private readonly TMem g = g;
    private readonly TMem velocity = velocity;

    public long Items => length;

    public void Execute(int item)
    {
        float grad = g.Load(item);
        if (s.Momentum == 0f)
        {
            w.Store(item, w.Load(item) - (s.LearningRate * grad));
            return;
        }

        float m = (s.Momentum * velocity.Load(item)) - (s.LearningRate * grad);
        velocity.Store(item, m);
        w.Store(item, w.Load(item) + (s.Nesterov != 0 ? (s.Momentum * m) - (s.LearningRate * grad) : m));
    }
}

/// <summary>Keras 3's Adam in place, one item per weight; the step-dependent factor comes from the host, computed in double.</summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct AdamProgram<TMem>(int length, AdamStep s, TMem w, TMem g, TMem m, TMem v) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly int length = length;
    private readonly AdamStep s = s;
    private readonly TMem w = w;
    private readonly TMem g = g;
    private readonly TMem m = m;
    private readonly TMem v = v;

    public long Items => length;

    public void Execute(int item)
    {
        float grad = g.Load(item);
        float mean = m.Load(item);
        float variance = v.Load(item);
        mean += (grad - mean) * (1f - s.Beta1);
        variance += ((grad * grad) - variance) * (1f - s.Beta2);
        m.Store(item, mean);
        v.Store(item, variance);
        w.Store(item, w.Load(item) - (mean * s.Alpha / (System.MathF.Sqrt(variance) + s.Epsilon)));
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
