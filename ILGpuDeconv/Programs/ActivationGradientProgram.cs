namespace ILGpuDeconv.Programs;

/// <summary>
/// The gradient at the pre-activation: <c>dz = (dy + d(activity penalty)/dy) * act'(z)</c>, with
/// <c>y = act(z)</c> recomputed from the stored pre-activation (so the caller's output tensor may be
/// reused between the passes). One item per element.
/// </summary>
/// <typeparam name="TAct">The activation function.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct ActivationGradientProgram<TAct, TMem>(int length, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz, TAct act) : IGpuProgram
    where TAct : unmanaged, IActivationFunction
    where TMem : struct, ITensorMemory
{
    private readonly int length = length;
    private readonly ActivityPenalty penalty = penalty;
    private readonly TMem dy = dy;
    private readonly TMem pre = pre;
    private readonly TMem dz = dz;
    private readonly TAct act = act;

    public long Items => length;

    public void Execute(int item)
    {
        float z = pre.Load(item);
        float y = act.Apply(z);
        float g = dy.Load(item);

        // A select, not a branch: with the activation's value used only inside a branch, PoCL 6's LLVM aborts
        // ("Instruction Combining did not reach a fixpoint") on the gelu, softplus and mish gradient programs.
        float penalised = g + (penalty.L1 * DeviceMath.Sign(y)) + (2f * penalty.L2 * y);
        g = penalty.L1 != 0f || penalty.L2 != 0f ? penalised : g;
        dz.Store(item, g * act.Derivative(z, y));
    }
}

/// <summary>The activity regularizer's factors, already divided by the batch size.</summary>
internal readonly struct ActivityPenalty(float l1, float l2)
{
    public readonly float L1 = l1;
    public readonly float L2 = l2;
}
