namespace ILGpuDeconv.Programs;

/// <summary>
/// Finishes the weight gradients in one launch (kernel elements first, then bias elements): sums the
/// chunks' partial sums in chunk order (compensated), adds the regularizer's gradient
/// <c>l1 * sign(w) + 2 * l2 * w</c>, and writes or accumulates into the gradient buffer.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
/// <remarks>Describes the launch; a <paramref name="bias"/> of length 0 finishes the kernel gradient only.</remarks>
internal readonly struct GradientFinishProgram<TMem>(GradientFinish kernel, GradientFinish bias, TMem kernelPartial, TMem kernelWeights, TMem kernelGradient, TMem biasPartial, TMem biasWeights, TMem biasGradient) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly GradientFinish kernel = kernel;
    private readonly GradientFinish bias = bias;
    private readonly TMem kernelPartial = kernelPartial;
    private readonly TMem kernelWeights = kernelWeights;
    private readonly TMem kernelGradient = kernelGradient;
    private readonly TMem biasPartial = biasPartial;
    private readonly TMem biasWeights = biasWeights;
    private readonly TMem biasGradient = biasGradient;

    public long Items => (long)kernel.Length + bias.Length;

    public void Execute(int item)
    {
        if (item < kernel.Length)
        {
            FinishOne(item, kernel, kernelPartial, kernelWeights, kernelGradient);
        }
        else
        {
            FinishOne(item - kernel.Length, bias, biasPartial, biasWeights, biasGradient);
        }
    }

    private static void FinishOne(int index, in GradientFinish s, TMem partial, TMem w, TMem gradient)
    {
        KahanSum total = default;
        for (int chunk = 0; chunk < s.Chunks; chunk++)
        {
            total.Add(partial.Load((chunk * s.Length) + index));
        }

        float sum = total.Sum;
        if (s.L1 != 0f || s.L2 != 0f)
        {
            float weight = w.Load(index);
            sum += (s.L1 * DeviceMath.Sign(weight)) + (2f * s.L2 * weight);
        }

        gradient.Store(index, s.Accumulate != 0 ? gradient.Load(index) + sum : sum);
    }
}

/// <summary>Parameters of one weight's finishing step: its length, chunks, penalty and whether to accumulate.</summary>
internal readonly struct GradientFinish(int length, int chunks, float l1, float l2, bool accumulate)
{
    public readonly int Length = length;
    public readonly int Chunks = chunks;
    public readonly float L1 = l1;
    public readonly float L2 = l2;
    public readonly int Accumulate = accumulate ? 1 : 0;
}
