using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// A TF.js layers model saved by TensorFlow.js 4.22 (<c>Golden/generator/make_tfjs_model.mjs</c>): weights listed
/// and read, the layer built from the model's config and loaded by its name, and its output compared with TF.js's
/// own output of that layer; malformed manifests refused naming file and field.
/// </summary>
public sealed class TensorFlowJsModelFormatTests
{
    private static string Model => Path.Combine(AppContext.BaseDirectory, "IO", "files", "tfjs_model", "model.json");

    [Test]
    public void The_manifest_lists_every_weight()
    {
        Assert.That(
            TensorFlowJsModelFormat.List(Model).Select(w => $"{w.Name} {w.Dtype} [{string.Join(", ", w.Shape)}]"),
            Is.EqualTo(new[] { "up1/kernel float32 [3, 2, 4, 3]", "up1/bias float32 [4]", "up2/kernel float32 [3, 3, 2, 4]" }));
    }

    [Test]
    public void A_layer_built_from_the_models_config_and_weights_gives_TFjs_output()
    {
        var layers = TensorFlowJsModelFormat.ReadConv2DTransposeLayers(Model);
        Assert.That(layers.Select(l => l.Name), Is.EqualTo(new[] { "up1", "up2" }));
        var up1 = layers[0];
        Assert.Multiple(() =>
        {
            Assert.That(up1.Filters, Is.EqualTo(4));
            Assert.That(up1.KernelSize, Is.EqualTo(new Size2D(3, 2)));
            Assert.That(up1.Strides, Is.EqualTo(new Size2D(2)));
            Assert.That(up1.Padding, Is.EqualTo(Padding.Same));
            Assert.That(up1.Activation.Name, Is.EqualTo("relu"));
            Assert.That(layers[1].UseBias, Is.False);
        });

        using var layer = new Conv2DTranspose(TestAccelerators.Any(), up1);
        layer.Build(3);
        layer.LoadWeights(Model);
        using var forward = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(Model)!, "forward.json")));
        float[] Floats(string name) => [.. forward.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetSingle())];
        int[] Ints(string name) => [.. forward.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetInt32())];
        var output = layer.Forward(Floats("x"), new TensorShape(Ints("x_shape")));
        Assert.That(layer.ComputeOutputShape(new TensorShape(Ints("x_shape"))), Is.EqualTo(new TensorShape(Ints("up1_shape"))));
        Tolerance.AssertClose(output, Array.ConvertAll(Floats("up1"), v => (double)v), "the layer against TF.js's up1");
    }

    [Test]
    public void A_layer_whose_name_the_model_lacks_is_told_the_candidates()
    {
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Name = "elsewhere" });
        layer.Build(3);
        Assert.That(
            () => layer.LoadWeights(Model),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("up1/kernel, up1/bias, up2/kernel").And.Message.Contains("elsewhere/kernel"));
    }

    private static string Copy(Func<string, string> editJson, bool keepShard = true)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-tfjs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "model.json"), editJson(File.ReadAllText(Model)));
        if (keepShard)
        {
            File.Copy(Path.Combine(Path.GetDirectoryName(Model)!, "group1-shard1of1.bin"), Path.Combine(folder, "group1-shard1of1.bin"));
        }

        return Path.Combine(folder, "model.json");
    }

    [TestCase("\"group1-shard1of1.bin\"", "\"../group1-shard1of1.bin\"", "not a plain file name")]
    [TestCase("\"name\":\"up1/bias\",\"shape\":[4]", "\"name\":\"up1/bias\",\"shape\":[4000]", "shards end before the data of weight 'up1/bias'")]
    [TestCase("\"name\":\"up1/bias\",\"shape\":[4],\"dtype\":\"float32\"", "\"name\":\"up1/bias\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\"}", "field 'quantization'")]
    [TestCase("\"name\":\"up1/bias\"", "\"name\":\"up1/kernel\"", "names weight 'up1/kernel' twice")]
    [TestCase("\"shape\":[4]", "\"shape\":[-4]", "field 'shape'")]
    public void Malformed_manifests_are_refused_naming_file_and_field(string from, string to, string expected)
    {
        string model = Copy(json => json.Contains(from, StringComparison.Ordinal) ? json.Replace(from, to, StringComparison.Ordinal) : throw new InvalidOperationException($"the fixture lacks {from}"));
        try
        {
            Assert.That(() => TensorFlowJsModelFormat.Read(model), Throws.TypeOf<InvalidDataException>().With.Message.Contains(expected).And.Message.Contains("model.json"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(model)!, recursive: true);
        }
    }

    [Test]
    public void A_missing_shard_is_named()
    {
        string model = Copy(json => json, keepShard: false);
        try
        {
            Assert.That(() => TensorFlowJsModelFormat.Read(model), Throws.TypeOf<InvalidDataException>().With.Message.Contains("group1-shard1of1.bin is missing"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(model)!, recursive: true);
        }
    }
}
