using System;
using System.Threading;
using ILGpuDeconv.Passes;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <summary>
/// TensorFlow's <c>tf.layers.conv2d_transpose</c> / Keras's <c>Conv2DTranspose</c> ("deconvolution") on an
/// ILGPU accelerator: forward pass, gradients for input, kernel and bias, and results equal to TensorFlow's.
/// </summary>
/// <remarks>
/// <para>
/// Weights are created on the first call (or by <see cref="Build"/>), when the input channel count is
/// known, with <see cref="Conv2DTransposeOptions.KernelInitializer"/> and
/// <see cref="Conv2DTransposeOptions.BiasInitializer"/>. The kernel has Keras's layout
/// <c>[kh, kw, filters, in_channels]</c>.
/// </para>
/// <para>
/// Thread safety: every public member may be called from any thread; calls on one layer (and on layers
/// sharing its weights through <c>reuse</c>) run one at a time. <see cref="Backward(DeviceTensor, DeviceTensor?, bool)"/>
/// uses what the most recent <c>Forward</c> call kept, so a training step's forward and backward should come
/// from one thread, or use separate layers.
/// </para>
/// </remarks>
public sealed partial class Conv2DTranspose : IDisposable
{
    private readonly LayerWeightRegistry.Entry registration;
    private readonly ForwardPass forward;
    private readonly BackwardPass backward;
    private readonly HostStaging host;
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2213", Justification = "Weights may be shared (reuse); the device's registry frees them with the last layer.")]
    private LayerWeights? weights;
    private bool disposed;

    /// <summary>Creates a layer on <see cref="DeconvDevice.Shared"/> (CUDA, else OpenCL, else CPU, or as <see cref="DeconvDevice.EnvironmentVariable"/> says).</summary>
    /// <param name="options">The layer's arguments.</param>
    /// <exception cref="ArgumentException">An argument is invalid; the message names it.</exception>
    public Conv2DTranspose(Conv2DTransposeOptions options)
        : this(DeconvDevice.Shared, options)
    {
    }

    /// <summary>Creates a layer on a device.</summary>
    /// <param name="device">The device to run on.</param>
    /// <param name="options">The layer's arguments.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An argument is invalid (the message names it), or the name is taken without <c>reuse</c>, or <c>reuse</c> names no layer.</exception>
    public Conv2DTranspose(DeconvDevice device, Conv2DTransposeOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        device.ThrowIfDisposed();
        options.Validate();
        Device = device;
        Options = options;
        registration = device.Weights.Claim(options.Name, options.Reuse, nameof(options));
        if (registration.Weights is { } existing)
        {
            try
            {
                CheckCompatible(existing, nameof(options));
            }
            catch
            {
                device.Weights.Release(registration);
                throw;
            }
        }

        forward = new ForwardPass(device, options);
        backward = new BackwardPass(device, forward);
        host = new HostStaging(device);
    }

    /// <summary>Gets the device the layer runs on.</summary>
    public DeconvDevice Device { get; }

    /// <summary>Gets the layer's arguments.</summary>
    public Conv2DTransposeOptions Options { get; }

    /// <summary>Gets the layer's name (TensorFlow's <c>name</c>; Keras-style <c>conv2d_transpose_N</c> when none was given).</summary>
    public string Name => registration.Name;

    /// <summary>Gets a value indicating whether the weights exist (after the first call, <see cref="Build"/> or <see cref="SetWeights"/>).</summary>
    public bool IsBuilt => CurrentWeights is not null;

    /// <summary>Gets the input channel count the weights were built for, or null before that.</summary>
    public int? InputChannels => CurrentWeights?.KernelShape[3];

    /// <summary>Gets the kernel shape <c>[kh, kw, filters, in_channels]</c>, or null before the layer is built.</summary>
    public TensorShape? KernelShape => CurrentWeights?.KernelShape;

    /// <summary>
    /// Gets the route (program family, tile, reduction split, tensor cores) that <paramref name="pass"/> took in the
    /// layer's last call that ran it, with why it was chosen; null before such a call.
    /// </summary>
    /// <param name="pass">The pass.</param>
    /// <returns>The route, or null.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pass"/> is not a defined pass.</exception>
    public ProgramRoute? LastRoute(ConvolutionPass pass)
    {
        lock (registration.SyncRoot)
        {
            return pass switch
            {
                ConvolutionPass.Forward => forward.LastRoute,
                ConvolutionPass.InputGradient => backward.LastInputGradientRoute,
                ConvolutionPass.KernelGradient => backward.LastKernelGradientRoute,
                _ => throw new ArgumentOutOfRangeException(nameof(pass), pass, "pass must be Forward, InputGradient or KernelGradient."),
            };
        }
    }

    /// <summary>Gets the weights, which another layer may have created (reuse); checks them on first sight.</summary>
    private LayerWeights? CurrentWeights
    {
        get
        {
            if (weights is null && registration.Weights is { } shared)
            {
                CheckCompatible(shared, "options");
                weights = shared;
            }

            return weights;
        }
    }

    /// <summary>Computes the output shape for an input shape, exactly as TensorFlow does (Keras <c>compute_output_shape</c>).</summary>
    /// <param name="inputShape">The input shape, rank 4, in the layer's data format.</param>
    /// <returns>The output shape in the layer's data format.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or TensorFlow refuses it.</exception>
    public TensorShape ComputeOutputShape(TensorShape inputShape) => GetGeometry(inputShape).OutputShape;

    /// <summary>Gives every size of the transposed convolution for an input shape (output size, crop, flop count).</summary>
    /// <param name="inputShape">The input shape, rank 4, in the layer's data format.</param>
    /// <returns>The geometry.</returns>
    /// <exception cref="ArgumentException">The shape is invalid, TensorFlow refuses it, or its channels differ from the built kernel's.</exception>
    public Conv2DTransposeGeometry GetGeometry(TensorShape inputShape)
    {
        var geometry = Conv2DTransposeGeometry.Create(Options, inputShape, nameof(inputShape));
        if (CurrentWeights is { } w && w.KernelShape[3] != geometry.InputChannels)
        {
            throw new ArgumentException(
                $"inputShape {inputShape} has {geometry.InputChannels} channels but layer '{Name}' was built for {w.KernelShape[3]} " +
                $"(kernel shape {w.KernelShape}).",
                nameof(inputShape));
        }

        return geometry;
    }

    /// <summary>Creates the weights for an input channel count (Keras <c>build</c>), if they do not exist yet.</summary>
    /// <param name="inputChannels">The number of input channels.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputChannels"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The weights exist with another channel count.</exception>
    public void Build(int inputChannels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputChannels, 1);
        using (EnterCall())
        {
            EnsureBuilt(inputChannels, nameof(inputChannels));
        }
    }

    /// <summary>
    /// Releases the layer's scratch memory and its claim on the weights (freed, with every optimizer's state for them,
    /// with the last layer sharing them). Waits for a call running on the layer to finish; later calls throw
    /// <see cref="ObjectDisposedException"/>. Works after the device's disposal too.
    /// </summary>
    public void Dispose()
    {
        lock (registration.SyncRoot)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            forward.Dispose();
            backward.Dispose();
            host.Dispose();
            saved = null;
            weights = null;
            Device.Weights.Release(registration);
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"Conv2DTranspose '{Name}' (filters={Options.Filters}, kernel_size={Options.KernelSize}, strides={Options.Strides}, " +
        $"padding={Options.PaddingText()}, dilation_rate={Options.DilationRate}, groups={Options.Groups}, " +
        $"output_padding={Options.OutputPadding?.ToString() ?? "None"}{(Options.OutputSize is { } size ? $", output_size={size}" : string.Empty)}, " +
        $"data_format={Options.DataFormat.ToKerasName()}, activation={Options.Activation.Name}) on {Device.Kind}";

    /// <summary>
    /// Begins a call: the lifetime rule of the layer, in one place. Takes the lock of the layers sharing its weights,
    /// refuses a disposed layer, then takes a lease on the device (refused once the device's Dispose has begun, which
    /// then waits for the call). Every public member that touches the weights, the files or the device begins so.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The layer or its device was disposed.</exception>
    private Call EnterCall()
    {
        Monitor.Enter(registration.SyncRoot);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return new Call(registration.SyncRoot, Device.EnterCall());
        }
        catch
        {
            Monitor.Exit(registration.SyncRoot);
            throw;
        }
    }

    /// <summary>What <see cref="EnterCall"/> holds until the call ends: the lock, and the device's lease.</summary>
    internal readonly struct Call(object syncRoot, LifetimeGate.Lease device) : IDisposable
    {
        public void Dispose()
        {
            device.Dispose();
            Monitor.Exit(syncRoot);
        }
    }

    /// <summary>Creates the weights on first use; checks the channel count otherwise.</summary>
    private LayerWeights EnsureBuilt(int inputChannels, string argumentName)
    {
        if (CurrentWeights is { } existing)
        {
            if (existing.KernelShape[3] != inputChannels)
            {
                throw new ArgumentException(
                    $"{argumentName} has {inputChannels} channels but layer '{Name}' was built for {existing.KernelShape[3]} (kernel shape {existing.KernelShape}).",
                    argumentName);
            }

            return existing;
        }

        if (inputChannels % Options.Groups != 0)
        {
            throw new ArgumentException($"{argumentName}: {inputChannels} input channels, which groups={Options.Groups} does not divide.", argumentName);
        }

        var kernelShape = new TensorShape(Options.KernelSize.Height, Options.KernelSize.Width, Options.Filters / Options.Groups, inputChannels);
        var created = Device.Weights.Bind(registration, Device, kernelShape, Options.UseBias, Options.Groups, argumentName);
        if (created.Version == 0)
        {
            InitializeWeights(created);
        }

        weights = created;
        return created;
    }

    private void InitializeWeights(LayerWeights target)
    {
        var kernelValues = new float[target.KernelShape.ElementCount];
        Options.KernelInitializer.Fill(kernelValues, target.KernelShape);
        float[]? biasValues = null;
        if (target.UseBias)
        {
            biasValues = new float[target.BiasShape.ElementCount];
            Options.BiasInitializer.Fill(biasValues, target.BiasShape);
        }

        Upload(target, kernelValues, biasValues);
    }

    /// <summary>Checks that weights another layer created (reuse) fit this layer's kernel size, filters and use_bias.</summary>
    private void CheckCompatible(LayerWeights shared, string argumentName)
    {
        var k = shared.KernelShape;
        if (k[0] != Options.KernelSize.Height || k[1] != Options.KernelSize.Width || k[2] != Options.Filters / Options.Groups || shared.Filters != Options.Filters || shared.UseBias != Options.UseBias)
        {
            throw new ArgumentException(
                $"Layer '{Name}' is reused with kernel [{Options.KernelSize.Height}, {Options.KernelSize.Width}, {Options.Filters / Options.Groups}, in_channels] " +
                $"(use_bias={Options.UseBias}) but its weights have kernel shape {k} (use_bias={shared.UseBias}).",
                argumentName);
        }
    }

    /// <summary>The stream every launch goes to.</summary>
    private ILGPU.Runtime.AcceleratorStream Stream => Device.Accelerator.DefaultStream;

    /// <summary>Program parameters for a geometry, refusing launches whose item counts would not fit 32 bits.</summary>
    private static Conv2DTransposeParams ParamsFor(Conv2DTransposeGeometry geometry, string argumentName)
    {
        var p = new Conv2DTransposeParams(geometry);
        if (p.ForwardItems > int.MaxValue || p.InputGradientItems > int.MaxValue)
        {
            throw new ArgumentException(
                $"{argumentName} shape {geometry.InputShape} needs more than {int.MaxValue} GPU work items for one pass.", argumentName);
        }

        // The programs index the weight layouts (filters or channels padded to 4 per group) with 32 bits.
        if (p.ForwardLayoutLength * p.Groups > int.MaxValue || p.InputGradientLayoutLength * p.Groups > int.MaxValue)
        {
            throw new ArgumentException(
                $"kernel shape {geometry.KernelShape} with groups={p.Groups} needs a weight layout of more than {int.MaxValue} elements.", argumentName);
        }

        return p;
    }

    /// <summary>
    /// The layer's own buffers for host calls: training and inference stage through separate ones, so an
    /// inference call cannot overwrite the input a backward pass still needs.
    /// </summary>
    private sealed class HostStaging(DeconvDevice device) : IDisposable
    {
        public ScratchBuffer ForwardInput { get; } = new(device, "host forward input");

        public ScratchBuffer ForwardOutput { get; } = new(device, "host forward output");

        public ScratchBuffer PredictInput { get; } = new(device, "host predict input");

        public ScratchBuffer PredictOutput { get; } = new(device, "host predict output");

        public ScratchBuffer OutputGradient { get; } = new(device, "host output gradient");

        public ScratchBuffer InputGradient { get; } = new(device, "host input gradient");

        public void Dispose()
        {
            ForwardInput.Dispose();
            ForwardOutput.Dispose();
            PredictInput.Dispose();
            PredictOutput.Dispose();
            OutputGradient.Dispose();
            InputGradient.Dispose();
        }
    }
}
