using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv.Passes;

/// <summary>
/// What an activation adds to the passes: the forward program with the activation fused into its store
/// (and, for softmax, the row-wise normalisation after it), and the program that takes the output gradient
/// back through the activation. Made once per layer from <see cref="Activation.Accept{TResult}"/>.
/// </summary>
internal abstract class ActivationEpilogue
{
    /// <summary>Creates the epilogue of an activation.</summary>
    public static ActivationEpilogue For(Activation activation) => activation.Accept(Factory.Instance);

    /// <summary>
    /// Launches the forward pass on <paramref name="route"/>: the pre-activation goes to <see cref="ForwardTensors.PreActivation"/>
    /// when <paramref name="flags"/> has <see cref="ForwardFlags.StorePreActivation"/>.
    /// </summary>
    public abstract void Forward<TMem>(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, ForwardFlags flags, ProgramRoute route)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>;

    /// <summary>Launches <c>dz = d(loss)/d(pre-activation)</c> from the output gradient and the stored pre-activation.</summary>
    public abstract void Gradient<TMem>(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>;

    private sealed class Factory : IActivationVisitor<ActivationEpilogue>
    {
        public static readonly Factory Instance = new();

        public ActivationEpilogue Elementwise<TFunction>(TFunction function)
            where TFunction : unmanaged, IActivationFunction => new ElementwiseEpilogue<TFunction>(function);

        public ActivationEpilogue AlongLastAxis(bool log) => new SoftmaxEpilogue(log);
    }

    /// <summary>An element-wise activation: fused into the forward program's store; its gradient is one program.</summary>
    private sealed class ElementwiseEpilogue<TAct>(TAct function) : ActivationEpilogue
        where TAct : unmanaged, IActivationFunction
    {
        public override void Forward<TMem>(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, ForwardFlags flags, ProgramRoute route) =>
            ForwardPass.LaunchProgram<TAct, TMem>(launcher, stream, p, t, function, flags, route);

        public override void Gradient<TMem>(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new ActivationGradientProgram<TAct, TMem>(rows.Count * rows.Length, penalty, dy, pre, dz, function));
    }

    /// <summary>softmax / log_softmax: the forward program runs linear, then a row-wise program normalises.</summary>
    private sealed class SoftmaxEpilogue(bool log) : ActivationEpilogue
    {
        public override void Forward<TMem>(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, ForwardFlags flags, ProgramRoute route)
        {
            ForwardPass.LaunchProgram<LinearFunction, TMem>(launcher, stream, p, t, default, flags, route);
            bool stored = (flags & ForwardFlags.StorePreActivation) != 0;
            launcher.Launch(stream, new SoftmaxProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), TMem.Bind(stored ? t.PreActivation : t.Output), TMem.Bind(t.Output)));
        }

        public override void Gradient<TMem>(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new SoftmaxGradientProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), penalty, dy, pre, dz));
    }
}

/// <summary>The tensors of a forward launch: input, weights in the forward layout, bias, output and pre-activation.</summary>
internal readonly record struct ForwardTensors(ArrayView<float> Input, ArrayView<float> Layout, ArrayView<float> Bias, ArrayView<float> Output, ArrayView<float> PreActivation)
{
    /// <summary>The tensors whose output and pre-activation start <paramref name="outputOffset"/> elements in (the interior of an output with a leading border).</summary>
    public ForwardTensors Interior(long outputOffset) => outputOffset == 0 ? this : this with
    {
        Output = Tail(Output, outputOffset),
        PreActivation = Tail(PreActivation, outputOffset),
    };

    /// <summary>The tensors seen from one group: each view starts at the group's channels, filters or layout.</summary>
    public ForwardTensors ForGroup(in Conv2DTransposeParams p, int group) => p.Groups == 1 ? this : new(
        Tail(Input, p.InputGroupOffset(group)),
        Tail(Layout, group * p.ForwardLayoutLength),
        Bias.Length > (long)group * p.Filters ? Tail(Bias, (long)group * p.Filters) : Bias, // without bias: a one-element placeholder, never read
        Tail(Output, p.OutputGroupOffset(group)),
        Tail(PreActivation, p.OutputGroupOffset(group)));

    /// <summary>The view from <paramref name="offset"/> to its end.</summary>
    public static ArrayView<float> Tail(ArrayView<float> view, long offset) => offset == 0 ? view : view.SubView(offset, view.Length - offset);
}

/// <summary>The output seen as rows of its last axis (Keras's softmax axis): how many rows, how long.</summary>
internal readonly record struct LastAxis(int Count, int Length);
