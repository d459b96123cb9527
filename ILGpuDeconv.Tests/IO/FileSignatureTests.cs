using System;
using System.IO;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// Files known by their bytes: a real file of one format under another format's name is refused by saying what it
/// is and what reads it (before, a PyTorch .pt renamed .npz gave "has no kernel array ... found: " with an empty
/// list, and inspect printed "0 tensor(s)").
/// </summary>
public sealed class FileSignatureTests
{
    private static string Files => Path.Combine(AppContext.BaseDirectory, "IO", "files");

    /// <summary>A real file, the name it is given, and what the refusal must say.</summary>
    public static TestCaseData[] Misnamed =>
    [
        new TestCaseData("torch_state_dict.pt", "weights.npz", "a PyTorch checkpoint", ".pt or .pth").SetName("a .pt named .npz"),
        new TestCaseData("torch_state_dict.pt", "weights.safetensors", "a PyTorch checkpoint", ".pt or .pth").SetName("a .pt named .safetensors"),
        new TestCaseData("torch_weights.safetensors", "weights.pt", "a safetensors file", ".safetensors name").SetName("a .safetensors named .pt"),
        new TestCaseData("keras_weights.npz", "weights.pt", "a NumPy .npz archive", ".npz name").SetName("a .npz named .pt"),
        new TestCaseData("keras3.weights.h5", "weights.npz", "an HDF5 file", ".weights.h5 or .h5 name").SetName("a .weights.h5 named .npz"),
        new TestCaseData("keras3.keras", "weights.npz", "a Keras .keras archive", ".keras name").SetName("a .keras named .npz"),
        new TestCaseData("torch_convtranspose.onnx", "weights.pt", "an ONNX model", ".onnx name").SetName("an .onnx named .pt"),
        new TestCaseData("torch_weights.safetensors", "model.onnx", "a safetensors file", ".safetensors name").SetName("a .safetensors named .onnx"),
        new TestCaseData(Path.Combine("tfjs_model", "model.json"), "weights.npz", "JSON", "model.json name").SetName("a model.json named .npz"),
        new TestCaseData("torch_state_dict.pt", "kernel.npy", "a PyTorch checkpoint", ".pt or .pth").SetName("a .pt named .npy"),
    ];

    [TestCaseSource(nameof(Misnamed))]
    public void A_file_under_another_formats_name_is_named_for_what_it_is(string file, string name, string what, string reader)
    {
        string dir = Directory.CreateTempSubdirectory("signature").FullName;
        string path = Path.Combine(dir, name);
        File.Copy(Path.Combine(Files, file), path);
        try
        {
            var listed = Assert.Throws<InvalidDataException>(() => WeightFiles.List(path))!;
            using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2 });
            var loaded = Assert.Throws<InvalidDataException>(() => layer.LoadWeights(path, WeightLayout.PyTorch))!;
            Assert.Multiple(() =>
            {
                foreach (var message in new[] { listed.Message, loaded.Message })
                {
                    Assert.That(message, Does.Contain(path).And.Contain($"its bytes are {what}").And.Contain(reader));
                }

                Assert.That(layer.IsBuilt, Is.False, "the refused load changed nothing");
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void Every_real_file_under_its_own_name_is_what_its_name_says()
    {
        foreach (string file in new[] { "torch_state_dict.pt", "torch26_state_dict.pt", "torch_weights.safetensors", "torch26_weights.safetensors", "keras_weights.npz", "keras3.weights.h5", "keras3.keras", "legacy.h5", "torch_convtranspose.onnx", "torch26_convtranspose.onnx" })
        {
            Assert.That(() => WeightFiles.List(Path.Combine(Files, file)), Throws.Nothing, file);
        }
    }

    [Test]
    public void A_whole_module_saved_by_torch_save_is_refused_with_the_state_dict_advice()
    {
        // torch.save(model) of a Sequential(ConvTranspose2d): classes, not a state_dict (make_files.py, PyTorch 1.13).
        var ex = Assert.Throws<InvalidDataException>(() => WeightFiles.List(Path.Combine(Files, "torch_module.pt")))!;
        Assert.That(ex.Message, Does.Contain("torch.nn.modules").And.Contain("torch.save(model.state_dict(), path)"));
    }

    [Test]
    public void SaveWeights_refuses_an_extension_it_does_not_write_and_writes_nothing()
    {
        var (layer, _, _) = Layers.Random(TestAccelerators.Any(), new Conv2DTransposeOptions(2, 2), new TensorShape(1, 2, 2, 1), seed: 3);
        using (layer)
        {
            string path = Path.Combine(Path.GetTempPath(), $"weights-{Guid.NewGuid():N}.txt");
            var ex = Assert.Throws<ArgumentException>(() => layer.SaveWeights(path))!;
            Assert.Multiple(() =>
            {
                Assert.That(ex.ParamName, Is.EqualTo("path"));
                Assert.That(ex.Message, Does.Contain(path).And.Contain(".npz").And.Contain(".safetensors").And.Contain(".weights.h5"));
                Assert.That(File.Exists(path), Is.False, "nothing written");
            });
        }
    }
}
