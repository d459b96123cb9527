using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;

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
    /// Launches the forward pass: the pre-activation goes to <see cref="ForwardTensors.PreActivation"/> when
    /// <paramref name="flags"/> has <see cref="ForwardFlags.StorePreActivation"/>. With a <paramref name="tile"/>
    /// the tiled program runs (<see cref="ForwardTiledProgram{TAct}"/>, on tensor cores with <paramref name="tensorCores"/>), else the direct one.
    /// </summary>
    public abstract void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, int flags, TileShape? tile, bool tensorCores);

    /// <summary>Launches <c>dz = d(loss)/d(pre-activation)</c> from the output gradient and the stored pre-activation.</summary>
    public abstract void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz);

    /// <summary>
    /// The forward program: the direct one (or its depthwise form) once for all groups (the group is an index of its grid), the tiled one
    /// once per group, on views offset to the group's channels, filters and weight layout.
    /// </summary>
    private static void LaunchForward<TAct>(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, in ForwardTensors t, TAct function, int flags, TileShape? tile, bool tensorCores)
        where TAct : unmanaged, IActivationFunction
    {
        if (tile is not TileShape shape)
        {
            if (p.IsDepthwise)
            {
                launcher.Launch(stream, new DepthwiseForwardProgram<TAct, TMem>(
                    p, TMem.Bind(t.Input), TMem.Bind(t.Layout), TMem.Bind(t.Bias), TMem.Bind(t.Output), TMem.Bind(t.PreActivation), function, flags));
            }
            else
            {
                launcher.Launch(stream, new ForwardProgram<TAct, TMem>(
                    p, TMem.Bind(t.Input), TMem.Bind(t.Layout), TMem.Bind(t.Bias), TMem.Bind(t.Output), TMem.Bind(t.PreActivation), function, flags));
            }

            return;
        }

        for (int group = 0; group < p.Groups; group++)
        {
            var g = t.ForGroup(p, group);
            launcher.LaunchTiled(stream, new ForwardTiledProgram<TAct>(p, shape, g.Input, g.Layout, g.Bias, g.Output, g.PreActivation, function, flags), tensorCores);
        }
    }

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
        public override void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, int flags, TileShape? tile, bool tensorCores) =>
            LaunchForward(launcher, stream, p, t, function, flags, tile, tensorCores);

        public override void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new ActivationGradientProgram<TAct, TMem>(rows.Count * rows.Length, penalty, dy, pre, dz, function));
    }

    /// <summary>softmax / log_softmax: the forward program runs linear, then a row-wise program normalises.</summary>
    private sealed class SoftmaxEpilogue(bool log) : ActivationEpilogue<TMem>
    {
        public override void Forward(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, LastAxis rows, in ForwardTensors t, int flags, TileShape? tile, bool tensorCores)
        {
            LaunchForward(launcher, stream, p, t, default(LinearFunction), flags, tile, tensorCores);
            bool stored = (flags & ForwardFlags.StorePreActivation) != 0;
            launcher.Launch(stream, new SoftmaxProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), TMem.Bind(stored ? t.PreActivation : t.Output), TMem.Bind(t.Output)));
        }

        public override void Gradient(Launcher launcher, AcceleratorStream stream, LastAxis rows, ActivityPenalty penalty, TMem dy, TMem pre, TMem dz) =>
            launcher.Launch(stream, new SoftmaxGradientProgram<TMem>(new SoftmaxRows(rows.Count, rows.Length, log), penalty, dy, pre, dz));
    }
}

/// <summary>The tensors of a forward launch: input, weights in the forward layout, bias, output and pre-activation.</summary>
internal readonly record struct ForwardTensors(ArrayView<float> Input, ArrayView<float> Layout, ArrayView<float> Bias, ArrayView<float> Output, ArrayView<float> PreActivation)
{
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
