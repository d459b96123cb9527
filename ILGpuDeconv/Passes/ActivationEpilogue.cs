using ILGPU.Runtime;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv.Passes;

/// <summary>
/// What an activation adds to the passes: the forward program with the activation fused into its store
/// (and, for softmax, the row-wise normalisation after it), and the program that takes the output gradient
/// back through the activation. Made once per layer from <see cref="Activation.Accept{TResult}"/>.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal abstract class ActivationEpilogue<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    /// <summary>Creates the epilogue of an activation.</summary>
    public static ActivationEpilogue<TMem> For(Activation activation) => activation.Accept(Factory.Instance);

    /// <summary>
    /// Launches the forward pass: <paramref name="pre"/> receives the pre-activation when
    /// <paramref name="flags"/> has <see cref="ForwardProgram{TAct, TMem}.StorePreActivation"/>.
    /// </summary>
    public abstract void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, TMem x, TMem w, TMem bias, TMem y, TMem pre, int flags);

    /// <summary>Launches <c>dz = d(loss)/d(pre-activation)</c> from the output gradient and the stored pre-activation.</summary>
    public abstract void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz);

    private sealed class Factory : IActivationVisitor<ActivationEpilogue<TMem>>
    {
        public static readonly Factory Instance = new();

        public ActivationEpilogue<TMem> Elementwise<TFunction>(TFunction function)
            where TFunction : unmanaged, IActivationFunction => new ElementwiseEpilogue<TFunction>(function);

        public ActivationEpilogue<TMem> AlongLastAxis(bool log) => new SoftmaxEpilogue(log);
    }

    /// <summary>An element-wise activation: fused into the forward program's store; its gradient is one program.</summary>
    private sealed class ElementwiseEpilogue<TAct>(TAct function) : ActivationEpilogue<TMem>
        where TAct : unmanaged, IActivationFunction
    {
        public override void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, TMem x, TMem w, TMem bias, TMem y, TMem pre, int flags) =>
            launcher.Launch(stream, new ForwardProgram<TAct, TMem>(p, x, w, bias, y, pre, function, flags));

        public override void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new ActivationGradientProgram<TAct, TMem>(rows.Count * rows.Length, penalty, dy, pre, dz, function));
    }

    /// <summary>softmax / log_softmax: the forward program runs linear, then a row-wise program normalises.</summary>
    private sealed class SoftmaxEpilogue(bool log) : ActivationEpilogue<TMem>
    {
        public override void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, TMem x, TMem w, TMem bias, TMem y, TMem pre, int flags)
        {
            launcher.Launch(stream, new ForwardProgram<LinearFunction, TMem>(p, x, w, bias, y, pre, default, flags));
            bool stored = (flags & ForwardProgram<LinearFunction, TMem>.StorePreActivation) != 0;
            launcher.Launch(stream, new SoftmaxProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), stored ? pre : y, y));
        }

        public override void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new SoftmaxGradientProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), penalty, dy, pre, dz));
    }
}

/// <summary>The output seen as rows of its last axis (Keras's softmax axis): how many rows, how long.</summary>
internal readonly record struct LastAxis(int Count, int Length);
