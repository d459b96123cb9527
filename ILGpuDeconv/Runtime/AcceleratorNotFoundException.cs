using System;

namespace ILGpuDeconv;

/// <summary>
/// The accelerator kind asked for (in code or through <see cref="DeconvDevice.EnvironmentVariable"/>) is not
/// on this machine. An <see cref="InvalidOperationException"/>, so code that caught that before still does.
/// </summary>
public sealed class AcceleratorNotFoundException : InvalidOperationException
{
    /// <summary>Initializes a new instance of the <see cref="AcceleratorNotFoundException"/> class.</summary>
    public AcceleratorNotFoundException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AcceleratorNotFoundException"/> class.</summary>
    /// <param name="message">What was asked for and what ILGPU lists.</param>
    public AcceleratorNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="AcceleratorNotFoundException"/> class.</summary>
    /// <param name="message">What was asked for and what ILGPU lists.</param>
    /// <param name="innerException">The cause.</param>
    public AcceleratorNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the kind that was asked for, when known.</summary>
    public AcceleratorKind? Requested { get; init; }
}
