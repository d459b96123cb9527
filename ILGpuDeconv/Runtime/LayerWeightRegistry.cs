using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;

namespace ILGpuDeconv;

/// <summary>
/// Names and weights of the layers on one device, for TensorFlow's <c>name</c>/<c>reuse</c> rules: a new
/// name creates variables; an existing name is an error unless <c>reuse</c> is set; <c>reuse</c> of an
/// unknown name is an error; layers without a name get Keras-style unique ones.
/// </summary>
internal sealed class LayerWeightRegistry
{
    /// <summary>Keras's default name prefix for this layer type.</summary>
    public const string DefaultPrefix = "conv2d_transpose";

    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private int unnamed;

    /// <summary>Claims a name for a new layer (or finds the entry to reuse).</summary>
    /// <returns>The entry; its weights may not exist yet if the first layer is not built.</returns>
    public Entry Claim(string? name, bool reuse, string argumentName)
    {
        lock (entries)
        {
            if (string.IsNullOrEmpty(name))
            {
                string generated;
                do
                {
                    generated = unnamed == 0 ? DefaultPrefix : string.Create(CultureInfo.InvariantCulture, $"{DefaultPrefix}_{unnamed}");
                    unnamed++;
                }
                while (entries.ContainsKey(generated));
                name = generated;
            }

            if (entries.TryGetValue(name, out var existing))
            {
                if (!reuse)
                {
                    throw new ArgumentException(
                        $"A layer named '{name}' already exists on this device; pass Reuse = true to share its weights (TensorFlow's reuse), or choose another name.",
                        argumentName);
                }

                existing.Layers++;
                return existing;
            }

            if (reuse)
            {
                throw new ArgumentException(
                    $"Reuse = true asks for the weights of a layer named '{name}', but no such layer exists on this device.",
                    argumentName);
            }

            var entry = new Entry(name);
            entries.Add(name, entry);
            return entry;
        }
    }

    /// <summary>Gets or creates the weights of an entry, checking the shape against the existing ones.</summary>
    public LayerWeights Bind(Entry entry, DeconvDevice device, TensorShape kernelShape, bool useBias, int groups, string argumentName)
    {
        lock (entries)
        {
            if (entry.Weights is { } weights)
            {
                if (weights.KernelShape != kernelShape || weights.UseBias != useBias || weights.Filters != kernelShape[2] * groups)
                {
                    throw new ArgumentException(
                        $"Layer '{entry.Name}' is reused with kernel shape {kernelShape} (use_bias={useBias}) but its weights have " +
                        $"kernel shape {weights.KernelShape} (use_bias={weights.UseBias}).",
                        argumentName);
                }

                return weights;
            }

            entry.Weights = new LayerWeights(device, entry.Name, kernelShape, useBias, groups);
            return entry.Weights;
        }
    }

    /// <summary>Releases a layer's claim; frees the weights and the name with the last one.</summary>
    public void Release(Entry entry)
    {
        lock (entries)
        {
            if (--entry.Layers > 0)
            {
                return;
            }

            // The caller holds the entry's lock (a layer's Dispose), so no call, optimizer step included, is using them.
            entry.Weights?.Dispose();
            entry.Weights = null;
            entries.Remove(entry.Name);
        }
    }

    /// <summary>One name: its weights (once built) and how many layers use it.</summary>
    internal sealed class Entry(string name)
    {
        private static long created;

        public string Name { get; } = name;

        /// <summary>Gets the entry's place among all entries of the process: the order in which calls take several entries' locks.</summary>
        public long Order { get; } = Interlocked.Increment(ref created);

        public int Layers { get; set; } = 1;

        public LayerWeights? Weights { get; set; }

        /// <summary>Gets the lock every layer sharing this name holds while it runs, so shared weights change one call at a time.</summary>
        public object SyncRoot { get; } = new();
    }
}
