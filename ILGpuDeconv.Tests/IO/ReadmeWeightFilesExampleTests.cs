using ILGpuDeconv;
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>The README's weight-file example (one per format) compiles (it is below), runs on the files of IO/files, and stays the README's text.</summary>
public sealed partial class ReadmeWeightFilesExampleTests
{
    private static string Files => Path.Combine(AppContext.BaseDirectory, "IO", "files");

    [Test]
    public void The_example_runs()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-readme-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            var (keras, torch, tfjs) = Example(TestAccelerators.Any(), Path.Combine(Files, "keras3.keras"), Path.Combine(Files, "torch_state_dict.pt"), Path.Combine(Files, "tfjs_model", "model.json"), Path.Combine(Files, "torch_convtranspose.onnx"), folder);
            Assert.Multiple(() =>
            {
                Assert.That(keras, Has.Length.EqualTo(3 * 2 * 4 * 3));
                Assert.That(torch, Has.Length.EqualTo(3 * 2 * 4 * 3));
                Assert.That(tfjs, Has.Length.EqualTo(3 * 3 * 2 * 4));
                Assert.That(File.Exists(Path.Combine(folder, "up1.weights.h5")) && File.Exists(Path.Combine(folder, "up.safetensors")) && File.Exists(Path.Combine(folder, "up1.onnx")));
                Assert.That(WeightFiles.List(Path.Combine(folder, "up.safetensors")).Select(t => t.Name), Is.EqualTo(new[] { "weight", "bias" }));
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void The_README_shows_this_example()
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));
        var block = Block().Match(readme);
        Assert.That(block.Success, "the README has the weight-files block");
        string source = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "IO", "ReadmeWeightFilesExampleTests.cs"));
        int begin = source.LastIndexOf("// README begin", StringComparison.Ordinal);
        int end = source.LastIndexOf("// README end", StringComparison.Ordinal);
        string body = string.Join("\n", source[begin..end].Split('\n').Skip(1).SkipLast(1).Select(l => l.Trim()));
        Assert.That(Normalize(block.Groups[1].Value), Is.EqualTo(Normalize(body)));
    }

    private static (float[] Keras, float[] Torch, float[] Tfjs) Example(DeconvDevice device, string keras, string torchFile, string modelJson, string onnxModel, string folder)
    {
        // README begin
        // Keras 3: a .keras file (or .weights.h5, or a legacy .h5); the layer built from the file's own config
        var options = KerasWeightsFormat.ReadConv2DTransposeLayers(keras)[0];               // layer "up1"
        using var fromKeras = new Conv2DTranspose(device, options);
        fromKeras.Build(inputChannels: 3);
        fromKeras.LoadWeights(keras);                                                      // up1/kernel, up1/bias

        // PyTorch: a state_dict from torch.save (or a .safetensors file), ConvTranspose2d's [in, out, kh, kw] layout
        using var fromTorch = new Conv2DTranspose(device, new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, DataFormat = DataFormat.ChannelsFirst });
        fromTorch.Build(inputChannels: 3);
        fromTorch.LoadWeights(torchFile, WeightLayout.PyTorch);                            // 0.weight, 0.bias

        // TF.js: model.json beside its weight shards; the weights are found by the layer's name
        using var fromTfjs = new Conv2DTranspose(device, TensorFlowJsModelFormat.ReadConv2DTransposeLayers(modelJson)[1]);
        fromTfjs.Build(inputChannels: 4);
        fromTfjs.LoadWeights(modelJson);                                                   // up2/kernel (up2 has no bias)

        // ONNX: a model exported by torch.onnx.export (or tf2onnx); the layer from its ConvTranspose node and initializers
        using var fromOnnx = Conv2DTranspose.FromOnnx(device, onnxModel, new TensorShape(2, 3, 5, 4));  // X: [N, C, H, W]
        fromKeras.SaveOnnx(Path.Combine(folder, "up1.onnx"), new TensorShape(1, 8, 8, 3)); // ONNX Runtime runs it

        // Back to Python: Keras's model.load_weights, safetensors.torch.load_file
        fromKeras.SaveWeights(Path.Combine(folder, "up1.weights.h5"));
        fromTorch.SaveWeights(Path.Combine(folder, "up.safetensors"), WeightLayout.PyTorch);

        foreach (var tensor in WeightFiles.List(torchFile))                                // or: ilgpudeconv inspect FILE
        {
            Console.WriteLine(tensor);                                                     // 0.weight  float32  [3, 4, 3, 2] ...
        }
        // README end
        return (fromKeras.GetWeights().Kernel, fromTorch.GetWeights().Kernel, fromTfjs.GetWeights().Kernel);
    }

    private static string Normalize(string code) =>
        string.Join("\n", code.Replace("\r", string.Empty, StringComparison.Ordinal).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    [GeneratedRegex("```cs\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Block();
}
