using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU.Runtime;
using ILGpuDeconv.Passes;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <summary>
/// A Keras optimizer that updates layers' weights in place on their accelerator from the gradients of
/// their last backward pass, then applies their constraints. State (momentum, Adam's moments) lives
/// beside the weights on the device, one set per optimizer and per weight set.
/// </summary>
public abstract class Optimizer
{
    private float learningRate;

    private protected Optimizer(float learningRate) => LearningRate = learningRate;

    /// <summary>Gets or sets Keras <c>learning_rate</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public float LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0f) || float.IsInfinity(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "learning_rate must be finite and non-negative.");
            }

            learningRate = value;
        }
    }

    /// <summary>Gets Keras <c>iterations</c>: how many steps this optimizer has taken.</summary>
    public long Iterations { get; private set; }

    /// <summary>
    /// Takes one step (Keras <c>apply_gradients</c>): updates every trainable layer's kernel and bias
    /// from its gradients, then applies its constraints. Layers sharing weights (<c>reuse</c>) are
    /// updated once. Launches asynchronously on each layer's accelerator.
    /// </summary>
    /// <param name="layers">The layers to update.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> or one of them is null.</exception>
    /// <exception cref="InvalidOperationException">A trainable layer has no gradients yet.</exception>
    /// <exception cref="ObjectDisposedException">A layer or its device was disposed; no weight changed.</exception>
    public void Step(params Conv2DTranspose[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Any(layer => layer is null))
        {
            throw new ArgumentNullException(nameof(layers), "A layer in the list is null.");
        }

        lock (stepGate)
        {
            // Every layer's call begins before anything is checked, and lasts the whole step: no layer can be
            // disposed (which frees its weights and this optimizer's state for them) and no other call can change
            // its weights in between, so a refused step changes nothing and no state is made for freed weights.
            using var calls = Conv2DTranspose.EnterCalls(layers);

            // Layers sharing one weight set (reuse) update it once, if any of them is trainable, with the first
            // trainable one's constraints.
            var sets = layers.Select(layer => layer.WeightSetForStep())
                .Where(set => set is { Trainable: true, Weights: not null })
                .DistinctBy(set => set.Weights)
                .ToList();

            // Optimizer state first, for every set: when memory runs out, the state made here is released again
            // and no weight has changed.
            var created = new List<WeightSet>();
            try
            {
                foreach (var set in sets)
                {
                    if (set.Weights!.EnsureSlots(this, Slots))
                    {
                        created.Add(set);
                    }
                }
            }
            catch
            {
                foreach (var set in created)
                {
                    set.Weights!.RemoveSlots(this);
                }

                throw;
            }

            long step = Iterations + 1;
            foreach (var set in sets)
            {
                new WeightUpdate(set.Weights!.Device).Apply(set.Weights, this, step, set.KernelConstraint, set.BiasConstraint);
            }

            Iterations = step;
        }
    }

    /// <summary>Serialises steps of this optimizer, so each takes its own step number.</summary>
    private readonly object stepGate = new();

    /// <summary>How many state buffers the rule keeps per weight tensor.</summary>
    private protected abstract int SlotCount { get; }

    internal int Slots => SlotCount;

    /// <summary>Launches the update of one weight tensor, with its state buffers (<see cref="Slots"/> of them).</summary>
    internal abstract void Update<TMem>(Launcher launcher, AcceleratorStream stream, int length, TMem weights, TMem gradient, IReadOnlyList<TMem> slots, long step)
        where TMem : struct, ITensorMemory;
}

/// <summary>Keras <c>SGD(learning_rate=0.01, momentum=0.0, nesterov=False)</c>.</summary>
public sealed class Sgd : Optimizer
{
    private readonly float momentum;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Keras <c>learning_rate</c>.</param>
    /// <param name="momentum">Keras <c>momentum</c>, in [0, 1).</param>
    /// <param name="nesterov">Keras <c>nesterov</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public Sgd(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false)
        : base(learningRate)
    {
        if (!(momentum >= 0f && momentum < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must lie in [0, 1).");
        }

        this.momentum = momentum;
        Nesterov = nesterov;
    }

    /// <summary>Gets Keras <c>momentum</c>.</summary>
    public float Momentum => momentum;

    /// <summary>Gets Keras <c>nesterov</c>.</summary>
    public bool Nesterov { get; }

    private protected override int SlotCount => momentum == 0f ? 0 : 1;

    internal override void Update<TMem>(Launcher launcher, AcceleratorStream stream, int length, TMem weights, TMem gradient, IReadOnlyList<TMem> slots, long step) =>
        launcher.Launch(stream, new SgdProgram<TMem>(length, new SgdStep(LearningRate, momentum, Nesterov), weights, gradient, slots.Count > 0 ? slots[0] : gradient));
}

/// <summary>Keras <c>Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)</c>.</summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Keras <c>learning_rate</c>.</param>
    /// <param name="beta1">Keras <c>beta_1</c>, in [0, 1).</param>
    /// <param name="beta2">Keras <c>beta_2</c>, in [0, 1).</param>
    /// <param name="epsilon">Keras <c>epsilon</c>, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f)
        : base(learningRate)
    {
        if (!(beta1 >= 0f && beta1 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta_1 must lie in [0, 1).");
        }

        if (!(beta2 >= 0f && beta2 < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta_2 must lie in [0, 1).");
        }

        if (!(epsilon > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive.");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Gets Keras <c>beta_1</c>.</summary>
    public float Beta1 { get; }

    /// <summary>Gets Keras <c>beta_2</c>.</summary>
    public float Beta2 { get; }

    /// <summary>Gets Keras <c>epsilon</c>.</summary>
    public float Epsilon { get; }

    private protected override int SlotCount => 2;

    internal override void Update<TMem>(Launcher launcher, AcceleratorStream stream, int length, TMem weights, TMem gradient, IReadOnlyList<TMem> slots, long step)
    {
        double alpha = LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step));
        launcher.Launch(stream, new AdamProgram<TMem>(length, new AdamStep((float)alpha, Beta1, Beta2, Epsilon), weights, gradient, slots[0], slots[1]));
    }
}

/// <summary>What an optimizer step updates: one layer's weights (shared by the layers that reuse them) and their constraints.</summary>
/// <param name="Weights">The weights; null while the layer is not built.</param>
/// <param name="Trainable">Whether the layer is trainable.</param>
/// <param name="KernelConstraint">Keras <c>kernel_constraint</c>.</param>
/// <param name="BiasConstraint">Keras <c>bias_constraint</c>.</param>
internal sealed record WeightSet(LayerWeights? Weights, bool Trainable, Constraint? KernelConstraint, Constraint? BiasConstraint);
