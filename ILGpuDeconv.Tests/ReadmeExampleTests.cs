using ILGpuDeconv;
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>The README's example compiles (it is below), runs, and stays the same text as the README's.</summary>
public sealed partial class ReadmeExampleTests
{
    [Test]
    public void The_example_runs()
    {
        var (output, inputGradient, kernelGradient, biasGradient) = Example();
        Assert.Multiple(() =>
        {
            Assert.That(output, Has.Length.EqualTo(8 * 32 * 32 * 64));
            Assert.That(inputGradient, Has.Length.EqualTo(8 * 16 * 16 * 128));
            Assert.That(kernelGradient, Has.Length.EqualTo(4 * 4 * 64 * 128));
            Assert.That(biasGradient, Has.Length.EqualTo(64));
        });
    }

    [Test]
    public void The_README_shows_this_example()
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        var block = CSharpBlock().Match(readme);
        Assert.That(block.Success, "the README has a C# block");
        string source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "ReadmeExampleTests.cs"));
        int begin = source.LastIndexOf("// README begin", StringComparison.Ordinal);
        int end = source.LastIndexOf("// README end", StringComparison.Ordinal);
        string usings = string.Join("\n", source.Split('\n').Where(l => l.StartsWith("using ILGpuDeconv", StringComparison.Ordinal)).Select(l => l.Trim()));
        string body = string.Join("\n", source[begin..end].Split('\n').Skip(1).SkipLast(1).Select(l => l.Trim()));
        Assert.That(Normalize(block.Groups[1].Value), Is.EqualTo(Normalize(usings + "\n\n" + body)));
    }

    private static (float[], float[], float[], float[]?) Example()
    {
        // README begin
        using var device = DeconvDevice.Create();   // CUDA, else OpenCL, else CPU; or ILGPUDECONV_ACCELERATOR
        using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(filters: 64, kernelSize: 4)
        {
            Strides = 2,
            Padding = KerasNames.ParsePadding("same"),
            Activation = Activation.Relu,
        });

        var inputShape = new TensorShape(8, 16, 16, 128);                  // NHWC
        var input = new float[inputShape.ElementCount];
        float[] output = layer.Forward(input, inputShape);                  // [8, 32, 32, 64]

        float[] inputGradient = layer.Backward(new float[output.Length]);  // d loss / d input
        var (kernelGradient, biasGradient) = layer.GetGradients();         // d loss / d weights
        Console.WriteLine($"{device.Info.Kind}: {layer.ComputeOutputShape(inputShape)}");
        // README end
        return (output, inputGradient, kernelGradient, biasGradient);
    }

    private static string Normalize(string code) =>
        string.Join("\n", code.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
