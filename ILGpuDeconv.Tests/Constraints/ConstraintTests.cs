using System;
using System.Collections.Generic;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Constraints;

/// <summary>Constraints applied after an optimizer step, against Keras's formulas computed here.</summary>
public sealed class ConstraintTests
{
    private const double Epsilon = 1e-7;

    /// <summary>Each constraint on each accelerator: a missing accelerator is reported as ignored, never as passed.</summary>
    public static IEnumerable<TestCaseData> Cases() =>
        from c in new (string Name, Constraint Constraint, int[] Axes)[]
        {
            ("MaxNorm(0.8, axis=0)", Constraint.MaxNorm(0.8f), [0]),
            ("MaxNorm(1.5, axis=[0,1,2])", Constraint.MaxNorm(1.5f, 0, 1, 2), [0, 1, 2]),
            ("UnitNorm(axis=3)", Constraint.UnitNorm(3), [3]),
            ("UnitNorm(axis=-1)", Constraint.UnitNorm(-1), [3]),
            ("MinMaxNorm(0.5, 1.2, rate=0.7, axis=[1,2])", Constraint.MinMaxNorm(0.5f, 1.2f, 0.7f, 1, 2), [1, 2]),
            ("NonNeg", Constraint.NonNeg(), []),
        }
        from kind in TestAccelerators.Tested
        select new TestCaseData(c.Constraint, c.Axes, kind).SetName($"{c.Name} on {kind}");

    [TestCaseSource(nameof(Cases))]
    public void Kernel_constraints_follow_Keras(Constraint constraint, int[] axes, AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        {
            var options = new Conv2DTransposeOptions(3, (2, 3)) { KernelConstraint = constraint };
            var (layer, x, shape) = Layers.Random(device, options, new TensorShape(1, 2, 2, 4), seed: 41);
            using (layer)
            {
                var (before, _) = layer.GetWeights();
                layer.Forward(x, shape);
                layer.Backward(new float[layer.ComputeOutputShape(shape).ElementCount]);
                new Sgd(learningRate: 0f).Step(layer); // no update: only the constraint changes the kernel
                var (after, _) = layer.GetWeights();
                Tolerance.AssertClose(after, Expected(constraint, before, [2, 3, 3, 4], axes), $"{constraint} on {device.Kind}", 1e-6, 1e-5);
            }
        }
    }

    [TestCase("max_norm", ConstraintKind.MaxNorm, 2f)]
    [TestCase("MaxNorm", ConstraintKind.MaxNorm, 2f)]
    [TestCase("non_neg", ConstraintKind.NonNeg, 0f)]
    [TestCase("unit_norm", ConstraintKind.UnitNorm, 0f)]
    [TestCase("min_max_norm", ConstraintKind.MinMaxNorm, 1f)]
    public void Keras_identifiers_give_Keras_defaults(string name, ConstraintKind kind, float maxValue)
    {
        var constraint = Constraint.FromName(name);
        Assert.That(constraint.Kind, Is.EqualTo(kind));
        Assert.That(constraint.MaxValue, Is.EqualTo(maxValue));
        Assert.That(constraint.Axes, Is.EqualTo(new[] { 0 }));
        Assert.That(Assert.Throws<System.ArgumentException>(() => Constraint.FromName("max"))!.Message, Does.Contain("max"));
    }

    [Test]
    public void A_bias_constraint_applies_to_the_bias()
    {
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(4, 2) { BiasConstraint = Constraint.MaxNorm(0.1f) };
        var (layer, x, shape) = Layers.Random(device, options, new TensorShape(1, 2, 2, 1), seed: 43);
        using (layer)
        {
            var (_, bias) = layer.GetWeights();
            layer.Forward(x, shape);
            layer.Backward(new float[layer.ComputeOutputShape(shape).ElementCount]);
            new Sgd(0f).Step(layer);
            Tolerance.AssertClose(layer.GetWeights().Bias, Expected(Constraint.MaxNorm(0.1f), bias!, [4], [0]), "bias", 1e-6, 1e-5);
        }
    }

    /// <summary>Keras: norms = sqrt(sum(w^2, axis, keepdims)); w * desired / (epsilon + norms).</summary>
    private static double[] Expected(Constraint constraint, float[] w, int[] dims, int[] axes)
    {
        if (constraint.Kind == ConstraintKind.NonNeg)
        {
            return w.Select(v => v >= 0 ? (double)v : 0.0).ToArray();
        }

        int rank = dims.Length;
        var norms = new double[w.Length];
        var sums = new Dictionary<string, double>();
        string Key(int index)
        {
            var coords = new int[rank];
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                coords[axis] = index % dims[axis];
                index /= dims[axis];
            }

            return string.Join(",", coords.Select((c, axis) => axes.Contains(axis) ? "*" : c.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        for (int i = 0; i < w.Length; i++)
        {
            sums[Key(i)] = sums.GetValueOrDefault(Key(i)) + ((double)w[i] * w[i]);
        }

        return w.Select((v, i) =>
        {
            double norm = Math.Sqrt(sums[Key(i)]);
            double desired = constraint.Kind switch
            {
                ConstraintKind.UnitNorm => 1,
                ConstraintKind.MaxNorm => Math.Clamp(norm, 0, constraint.MaxValue),
                _ => (constraint.Rate * Math.Clamp(norm, constraint.MinValue, constraint.MaxValue)) + ((1 - constraint.Rate) * norm),
            };
            return v * desired / (Epsilon + norm);
        }).ToArray();
    }
}
