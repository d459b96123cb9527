using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// Keras HDF5 weights written by h5py in Keras's layouts (<c>IO/files/make_keras_files.py</c>): Keras 3
/// <c>.weights.h5</c>, a <c>.keras</c> archive with its config, and the legacy <c>.h5</c>; read values compared with
/// the same arrays saved by NumPy; the layer's own <c>.weights.h5</c> read back.
/// </summary>
public sealed class KerasWeightsFormatTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    private static NumPyArray Expected(string name)
    {
        using var stream = System.IO.File.OpenRead(File("keras_weights.npz"));
        return NumPyFormat.ReadNpz(stream, "keras_weights.npz")[name];
    }

    [Test]
    public void Keras3_weights_are_named_by_layer_group_and_variable_order()
    {
        var listed = KerasWeightsFormat.List(File("keras3.weights.h5"));
        Assert.That(listed.Select(t => $"{t.Name} {t.Dtype} [{string.Join(", ", t.Shape)}]"), Is.EqualTo(new[]
        {
            "conv2d_transpose/kernel float32 [3, 2, 4, 3]", "conv2d_transpose/bias float32 [4]", "conv2d_transpose_1/kernel float32 [3, 3, 2, 4]",
        }));
        var read = KerasWeightsFormat.Read(File("keras3.weights.h5"));
        Assert.Multiple(() =>
        {
            Assert.That(read["conv2d_transpose/kernel"].Values, Is.EqualTo(Expected("up1_kernel").Values));
            Assert.That(read["conv2d_transpose/bias"].Values, Is.EqualTo(Expected("up1_bias").Values));
            Assert.That(read["conv2d_transpose_1/kernel"].Values, Is.EqualTo(Expected("up2_kernel").Values));
        });
    }

    [Test]
    public void A_keras_archive_names_weights_after_its_config_and_builds_the_layers()
    {
        Assert.That(KerasWeightsFormat.List(File("keras3.keras")).Select(t => t.Name), Is.EqualTo(new[] { "up1/kernel", "up1/bias", "up2/kernel" }));
        var layers = KerasWeightsFormat.ReadConv2DTransposeLayers(File("keras3.keras"));
        Assert.That(layers.Select(l => $"{l.Name} {l.Filters} {l.KernelSize} {l.Strides} {l.Padding} {l.Activation.Name} {l.UseBias}"), Is.EqualTo(new[]
        {
            "up1 4 (3, 2) (2, 2) Same relu True", "up2 2 (3, 3) (1, 1) Valid linear False",
        }));

        using var up2 = new Conv2DTranspose(TestAccelerators.Any(), layers[1]);
        up2.Build(4);
        up2.LoadWeights(File("keras3.keras"));
        Assert.That(up2.GetWeights().Kernel, Is.EqualTo(Expected("up2_kernel").Values));
    }

    [Test]
    public void Legacy_h5_weights_load_by_the_layers_name()
    {
        Assert.That(KerasWeightsFormat.List(File("legacy.h5")).Select(t => t.Name), Is.EqualTo(new[] { "up1/up1/bias:0", "up1/up1/kernel:0", "up2/up2/kernel:0" }));
        using var up1 = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Padding = Padding.Same, Name = "up1" });
        up1.Build(3);
        up1.LoadWeights(File("legacy.h5"));
        Assert.Multiple(() =>
        {
            Assert.That(up1.GetWeights().Kernel, Is.EqualTo(Expected("up1_kernel").Values));
            Assert.That(up1.GetWeights().Bias, Is.EqualTo(Expected("up1_bias").Values));
        });
    }

    [Test]
    public void Saved_weights_h5_reads_back_in_Keras_3s_layout()
    {
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2 });
        layer.Build(3);
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}.weights.h5");
        try
        {
            layer.SaveWeights(path);
            var read = KerasWeightsFormat.Read(path);
            Assert.Multiple(() =>
            {
                Assert.That(read.Keys, Is.EquivalentTo(new[] { "conv2d_transpose/kernel", "conv2d_transpose/bias" }));
                Assert.That(read["conv2d_transpose/kernel"].Shape, Is.EqualTo(layer.KernelShape));
                Assert.That(read["conv2d_transpose/kernel"].Values, Is.EqualTo(layer.GetWeights().Kernel));
                Assert.That(read["conv2d_transpose/bias"].Values, Is.EqualTo(layer.GetWeights().Bias));
            });
            Assert.That(() => layer.SaveWeights(path, WeightLayout.PyTorch), Throws.ArgumentException.With.Message.Contains("Keras's layout"));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Test]
    public void Files_that_are_not_Keras_weights_are_refused_naming_them()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}");
        try
        {
            System.IO.File.WriteAllText(path + ".h5", "not hdf5 at all");
            Assert.That(() => KerasWeightsFormat.List(path + ".h5"), Throws.TypeOf<InvalidDataException>().With.Message.Contains(".h5 is not an HDF5 file"));
            using (var zip = ZipFile.Open(path + ".keras", ZipArchiveMode.Create))
            {
                zip.CreateEntry("config.json").Open().Dispose();
                zip.CreateEntry("model.weights.npz").Open().Dispose();
            }

            Assert.That(() => KerasWeightsFormat.List(path + ".keras"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("config.json is not valid JSON"));
        }
        finally
        {
            System.IO.File.Delete(path + ".h5");
            System.IO.File.Delete(path + ".keras");
        }
    }
}

/// <summary>The layer loaded from each Keras file against TF.js's Keras-layers output of the same layer and weights.</summary>
public sealed class KerasWeightsForwardTests
{
    [TestCase("keras3.keras")]
    [TestCase("legacy.h5")]
    public void The_layer_loaded_from_Keras_weights_gives_the_Keras_layers_output_of_TFjs(string file)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "IO", "files");
        var options = TensorFlowJsModelFormat.ReadConv2DTransposeLayers(Path.Combine(folder, "tfjs_model", "model.json"))[0]; // up1
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), options);
        layer.Build(3);
        layer.LoadWeights(Path.Combine(folder, file));
        using var forward = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(folder, "tfjs_model", "forward.json")));
        float[] Floats(string name) => [.. forward.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetSingle())];
        int[] Ints(string name) => [.. forward.RootElement.GetProperty(name).EnumerateArray().Select(v => v.GetInt32())];
        var output = layer.Forward(Floats("x"), new ILGpuDeconv.TensorShape(Ints("x_shape")));
        Tolerance.AssertClose(output, Array.ConvertAll(Floats("up1"), v => (double)v), $"up1 from {file} against TF.js");
    }
}
