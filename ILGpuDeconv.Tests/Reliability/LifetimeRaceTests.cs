using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ILGPU.Runtime.CPU;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// The lifetime rule under races (README, Reliability): Dispose racing calls on the layer, its tensors, its optimizer
/// and its device never crashes, leaks or reports anything but <see cref="ObjectDisposedException"/>. Each race runs
/// many seeded rounds on real threads released together, the disposing one after a random spin so that it lands in
/// every phase of the call, within a time budget per test; a failure names the seed and the round.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "The races catch whatever a call throws to report it.")]
public sealed class LifetimeRaceTests
{
    /// <summary>The most time one race test spends on its rounds (the count it reached is printed).</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    /// <summary>How long a Dispose may take before the test calls it a hang.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(30);

    private static readonly TensorShape Shape = new(1, 3, 3, 2);

    private static readonly Conv2DTransposeOptions Options = new(3, 2) { Strides = 2, Padding = Padding.Same };

    /// <summary>One context per accelerator kind for the rounds that create devices: its kernel cache compiles each program once.</summary>
    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<ILGPU.Context>> Contexts = new();

    private static IEnumerable<AcceleratorKind> Kinds => TestAccelerators.Tested;

    [OneTimeTearDown]
    public void DisposeContexts()
    {
        foreach (var context in Contexts.Values.Where(c => c.IsValueCreated))
        {
            context.Value.Dispose();
        }

        Contexts.Clear();
    }

    [Test]
    public void LoadWeights_on_a_disposed_layer_refuses_before_opening_the_file([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        string path = Path.Combine(Path.GetTempPath(), $"lifetime-{Guid.NewGuid():N}.npz");
        var (layer, _, _) = Layers.Random(device, Options, Shape, seed: 1);
        try
        {
            layer.SaveWeights(path);
            layer.Dispose();
            Assert.Multiple(() =>
            {
                Assert.Throws<ObjectDisposedException>(() => layer.LoadWeights(path), "a real file");
                Assert.Throws<ObjectDisposedException>(() => layer.LoadWeights(Path.Combine(Path.GetTempPath(), "no-such-folder", "missing.npz")), "nothing is opened");
            });

            var gone = DeconvDevice.Create(kind);
            gone.Dispose();
            Assert.Throws<ObjectDisposedException>(() => Conv2DTranspose.FromOnnx(gone, Path.Combine(Path.GetTempPath(), "no-such-folder", "missing.onnx"), new TensorShape(1, 2, 3, 3)));
        }
        finally
        {
            layer.Dispose();
            File.Delete(path);
        }
    }

    [Test]
    public void LoadWeights_racing_Dispose_reports_only_the_disposal([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        long before = device.AllocatedBytes;
        string path = Path.Combine(Path.GetTempPath(), $"lifetime-{Guid.NewGuid():N}.npz");
        var (source, _, _) = Layers.Random(device, Options, Shape, seed: 2);
        using (source)
        {
            source.SaveWeights(path);
        }

        try
        {
            Race(seed: 20, rounds: 2000, (round, random, note) =>
            {
                var layer = new Conv2DTranspose(device, Options);
                var outcome = Together(
                    () =>
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            layer.LoadWeights(path);
                        }
                    },
                    layer.Dispose,
                    random.Next(0, 20000));
                layer.Dispose();
                note(Outcome("LoadWeights", outcome.First));
                RequireOnlyDisposal(outcome.First, "LoadWeights");
                RequireOnlyDisposal(outcome.Second, "Dispose");
                return null;
            });
            Assert.That(device.AllocatedBytes, Is.EqualTo(before), "every layer's weights were freed");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Optimizer_steps_racing_the_layers_Dispose_leave_no_state_behind([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        using var device = NewDevice(kind);
        var (probe, x, _) = Layers.Random(device, Options, Shape, seed: 3);
        var upstream = RandomTensors.Uniform(new Random(4), probe.ComputeOutputShape(Shape).ElementCount);
        probe.Dispose();
        Race(seed: 30, rounds: 2000, (round, random, note) =>
        {
            var (layer, _, _) = Layers.Random(device, Options, Shape, seed: round);
            layer.Forward(x, Shape);
            layer.Backward(upstream);
            // Four steps of four new optimizers (each makes its state on the first step), so the disposal may land
            // in any step's every phase.
            int steps = 0;
            var outcome = Together(
                () =>
                {
                    for (; steps < 4; steps++)
                    {
                        (steps % 2 == 0 ? (Optimizer)new Adam() : new Sgd(0.01f, momentum: 0.9f)).Step(layer);
                    }
                },
                layer.Dispose,
                random.Next(0, 40000));
            layer.Dispose();
            note($"steps before the disposal: {steps}");
            RequireOnlyDisposal(outcome.First, "Step");
            RequireOnlyDisposal(outcome.Second, "Dispose");
            return device.AllocatedBytes == 0 ? null : $"{device.AllocatedBytes} bytes still held after the layer's Dispose (in step {steps + 1})";
        });
    }

    [Test]
    public void A_layer_disposed_between_Forward_and_Backward_on_another_thread([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        using var device = NewDevice(kind);
        var (probe, values, _) = Layers.Random(device, Options, Shape, seed: 5);
        var outputShape = probe.ComputeOutputShape(Shape);
        probe.Dispose();
        using var x = DeviceTensor.FromHost(device, values, Shape);
        using var y = DeviceTensor.Allocate(device, outputShape);
        using var dy = DeviceTensor.FromHost(device, RandomTensors.Uniform(new Random(6), outputShape.ElementCount), outputShape);
        using var dx = DeviceTensor.Allocate(device, Shape);
        long tensors = device.AllocatedBytes;
        Race(seed: 50, rounds: 2000, (round, random, note) =>
        {
            var (layer, _, _) = Layers.Random(device, Options, Shape, seed: round);
            var outcome = Together(
                () =>
                {
                    layer.Forward(x, y);
                    layer.Backward(dy, dx);
                    _ = layer.GetGradients();
                },
                layer.Dispose,
                random.Next(0, 20000));
            layer.Dispose();
            note(Outcome("Forward/Backward", outcome.First));
            RequireOnlyDisposal(outcome.First, "Forward/Backward");
            RequireOnlyDisposal(outcome.Second, "Dispose");
            return device.AllocatedBytes == tensors ? null : $"{device.AllocatedBytes - tensors} bytes beyond the tensors still held";
        });
    }

    [Test]
    public void A_tensor_disposed_while_a_layer_uses_it([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        using var device = NewDevice(kind);
        var (layer, values, _) = Layers.Random(device, Options, Shape, seed: 7);
        using (layer)
        {
            var outputShape = layer.ComputeOutputShape(Shape);
            using var y = DeviceTensor.Allocate(device, outputShape);
            using var dy = DeviceTensor.FromHost(device, new float[outputShape.ElementCount], outputShape);
            var expected = layer.Predict(values, Shape);
            long held = device.AllocatedBytes;
            Race(seed: 70, rounds: 2000, (round, random, note) =>
            {
                var x = DeviceTensor.FromHost(device, values, Shape);
                var outcome = Together(
                    () =>
                    {
                        layer.Forward(x, y);
                        layer.Backward(dy, null);
                    },
                    x.Dispose,
                    random.Next(0, 20000));
                if (outcome.First is InvalidOperationException { Message: var m } && m.Contains("was disposed before Backward", StringComparison.Ordinal))
                {
                    outcome = (null, outcome.Second); // Forward ran; the tensor went before Backward began: the documented refusal
                    note("Backward refused (InvalidOperationException)");
                }
                else
                {
                    note(Outcome("Forward/Backward", outcome.First));
                }

                RequireOnlyDisposal(outcome.First, "Forward/Backward");
                RequireOnlyDisposal(outcome.Second, "the tensor's Dispose");
                if (device.AllocatedBytes != held)
                {
                    return $"{device.AllocatedBytes - held} bytes still held after the tensor's Dispose";
                }

                return layer.Predict(values, Shape).SequenceEqual(expected) ? null : "the layer computes another result after the race";
            });
        }
    }

    [Test]
    public void Disposing_a_device_while_threads_run_passes_on_it([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        TestAccelerators.Require(kind);
        Race(seed: 90, rounds: 500, (round, random, note) =>
        {
            var device = NewDevice(kind);
            var (layer, values, _) = Layers.Random(device, Options, Shape, seed: round);
            var outputShape = layer.ComputeOutputShape(Shape);
            var x = DeviceTensor.FromHost(device, values, Shape);
            var y = DeviceTensor.Allocate(device, outputShape);
            var dy = DeviceTensor.FromHost(device, new float[outputShape.ElementCount], outputShape);
            var dx = DeviceTensor.Allocate(device, Shape);
            var optimizer = new Adam();
            var work = new Action[]
            {
                () =>
                {
                    layer.Forward(x, y);
                    layer.Backward(dy, dx);
                    optimizer.Step(layer);
                },
                () => layer.Predict(values, Shape),
                () =>
                {
                    _ = y.ToArray();
                    device.Synchronize();
                    DeviceTensor.Allocate(device, Shape).Dispose();
                },
            };
            var failures = new ConcurrentQueue<string>();
            int calls = 0;
            using var started = new CountdownEvent(work.Length);
            var threads = work.Select(w => new Thread(() =>
            {
                started.Signal();
                try
                {
                    while (true)
                    {
                        w();
                        Interlocked.Increment(ref calls);
                    }
                }
                catch (ObjectDisposedException)
                {
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{e.GetType().Name}: {e.Message}");
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            started.Wait();

            // The disposal lands after a random number of finished calls (0 to 30, however slow the accelerator),
            // then a random spin into the calls in flight.
            int target = random.Next(0, 31);
            var waited = Stopwatch.StartNew();
            while (Volatile.Read(ref calls) < target && waited.Elapsed < TimeSpan.FromSeconds(2) && failures.IsEmpty)
            {
                Thread.Yield();
            }

            Thread.SpinWait(random.Next(0, 200000));
            var disposer = new Thread(device.Dispose);
            disposer.Start();
            if (!disposer.Join(HangLimit))
            {
                return $"the device's Dispose did not return in {HangLimit.TotalSeconds} s";
            }

            if (threads.Any(t => !t.Join(HangLimit)))
            {
                return "a call on the disposed device did not end";
            }

            foreach (var disposable in new IDisposable[] { layer, x, y, dy, dx })
            {
                disposable.Dispose();
            }

            note($"disposed after {(target == 0 ? "0" : target < 10 ? "1-9" : "10-30")} calls");

            return failures.TryDequeue(out var failure) ? failure
                : device.AllocatedBytes != 0 ? $"{device.AllocatedBytes} bytes still counted after every object was disposed"
                : null;
        });
    }

    [Test]
    public void Disposing_a_device_while_a_Tuned_measurement_runs([ValueSource(nameof(Kinds))] AcceleratorKind kind)
    {
        TestAccelerators.Require(kind);
        var measured = TimeSpan.Zero;
        Race(seed: 110, rounds: 40, (round, random, note) =>
        {
            var device = NewDevice(kind, tiled: true);
            device.Algorithm = ConvolutionAlgorithm.Tuned;
            var (layer, values, _) = Layers.Random(device, Options, Shape, seed: round);
            void Measured()
            {
                layer.Forward(values, Shape); // the first call of a key measures every candidate route
                layer.Backward(new float[layer.ComputeOutputShape(Shape).ElementCount]);
            }

            if (round < 2)
            {
                // How long the measured calls take here once the programs are compiled (the second round, on the
                // context's kernel cache), so that later disposals land anywhere inside them.
                var clock = Stopwatch.StartNew();
                Measured();
                measured = clock.Elapsed;
                device.Dispose();
                layer.Dispose();
                note("calibration");
                return device.AllocatedBytes == 0 ? null : $"{device.AllocatedBytes} bytes still counted";
            }

            var delay = measured * random.NextDouble() * 1.2;
            var outcome = Together(
                Measured,
                () =>
                {
                    Thread.Sleep(delay);
                    device.Dispose();
                },
                0);
            layer.Dispose();
            note($"{Outcome("measured Forward/Backward", outcome.First)}, {device.Tuning.Entries.Count} of 3 passes measured");
            RequireOnlyDisposal(outcome.First, "the measured Forward/Backward");
            RequireOnlyDisposal(outcome.Second, "the device's Dispose");
            return device.AllocatedBytes == 0 ? null : $"{device.AllocatedBytes} bytes still counted";
        }, minimum: 4);
    }

    /// <summary>
    /// A device of its own on the kind's shared context (so its memory count starts at zero and disposing it
    /// frees a real accelerator); with <paramref name="tiled"/>, one that runs the tiled programs (on the CPU,
    /// ILGPU's CPU accelerator with 256-thread groups).
    /// </summary>
    private static DeconvDevice NewDevice(AcceleratorKind kind, bool tiled = false)
    {
        TestAccelerators.Require(kind);
        var context = Contexts.GetOrAdd(kind, k => new Lazy<ILGPU.Context>(() => k == AcceleratorKind.Cpu
            ? ILGPU.Context.Create(b => DeconvDevice.ConfigureContext(b.CPU(ILGpuDeconv.Launcher.CpuAcceleratorDevice()).CPU(new CPUDevice(32, 8, 1))))
            : DeconvDevice.CreateContext())).Value;
        var devices = DeconvDevice.Ordered(context).ToList();
        var device = kind switch
        {
            AcceleratorKind.Cpu => devices.Where(d => d.AcceleratorType == ILGPU.Runtime.AcceleratorType.CPU).ElementAt(tiled ? 1 : 0),
            AcceleratorKind.OpenCL => devices.First(d => d.AcceleratorType == ILGPU.Runtime.AcceleratorType.OpenCL),
            _ => devices.First(d => d.AcceleratorType == ILGPU.Runtime.AcceleratorType.Cuda),
        };
        return DeconvDevice.OnContext(context, device);
    }

    /// <summary>
    /// Runs seeded rounds until <paramref name="rounds"/> or the budget; a round returns null or what went wrong, and
    /// names its outcome (which of the racing calls won) so that the printed tally shows the race landing both ways.
    /// </summary>
    private static void Race(int seed, int rounds, Func<int, Random, Action<string>, string?> round, int minimum = 1)
    {
        var random = new Random(seed);
        var tally = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Note(string outcome) => tally[outcome] = tally.GetValueOrDefault(outcome) + 1;
        var clock = Stopwatch.StartNew();
        int done = 0;
        for (; done < rounds && (done < minimum || clock.Elapsed < Budget); done++)
        {
            string? failure;
            try
            {
                failure = round(done, random, Note);
            }
            catch (Exception e)
            {
                failure = e is AssertionException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            }

            if (failure is not null)
            {
                Assert.Fail($"seed {seed}, round {done}: {failure}");
            }
        }

        TestContext.Out.WriteLine($"seed {seed}: {done} rounds in {clock.Elapsed.TotalSeconds:F1} s; {string.Join(", ", tally.Select(t => $"{t.Key} {t.Value}"))}");
    }

    /// <summary>The outcome of a racing call: it ran, or the disposal refused it.</summary>
    private static string Outcome(string call, Exception? e) => $"{call} {(e is null ? "ran" : "refused")}";

    /// <summary>Runs two actions on two threads released together, the second after <paramref name="spin"/> spins; returns what each threw.</summary>
    private static (Exception? First, Exception? Second) Together(Action first, Action second, int spin)
    {
        using var start = new Barrier(2);
        Exception? a = null, b = null;
        var one = new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                first();
            }
            catch (Exception e)
            {
                a = e;
            }
        });
        var two = new Thread(() =>
        {
            start.SignalAndWait();
            Thread.SpinWait(spin);
            try
            {
                second();
            }
            catch (Exception e)
            {
                b = e;
            }
        });
        one.Start();
        two.Start();
        if (!one.Join(HangLimit) || !two.Join(HangLimit))
        {
            Assert.Fail($"a racing call did not end in {HangLimit.TotalSeconds} s");
        }

        return (a, b);
    }

    /// <summary>Fails unless <paramref name="e"/> is null or an <see cref="ObjectDisposedException"/>: the only answer a disposal may give.</summary>
    private static void RequireOnlyDisposal(Exception? e, string what)
    {
        if (e is not null and not ObjectDisposedException)
        {
            throw new AssertionException($"{what} threw {e.GetType().Name}: {e.Message}");
        }
    }
}
