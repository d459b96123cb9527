using System;
using System.IO;
using System.Linq;
using ILGpuDeconv.IO;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary><see cref="WeightFiles.List"/> (what <c>ILGpuDeconv.Bench inspect</c> prints) on each format it reads.</summary>
public sealed class WeightFilesTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    [TestCase("torch_state_dict.pt", "0.weight  float32  [3, 4, 3, 2]|0.bias  float32  [4]")]
    [TestCase("torch_checkpoint.pt", "model.deconv.weight  float64  [3, 4, 3, 2]|model.deconv.bias  float32  [4]|extra  float32  [3, 2]")]
    [TestCase("torch_weights.safetensors", "weight  F32  [3, 4, 3, 2]|bias  F32  [4]")]
    [TestCase("torch_forward.npz", "x  <f4  [2, 3, 5, 4]|y  <f4  [2, 4, 11, 8]")]
    public void Lists_every_tensor_with_dtype_and_shape(string file, string expected) =>
        Assert.That(string.Join("|", WeightFiles.List(File(file)).Select(t => t.ToString())), Is.EqualTo(expected));

    [Test]
    public void A_malformed_file_is_an_InvalidDataException_naming_it() =>
        Assert.That(() => WeightFiles.List(File("torch_malicious.pt")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("torch_malicious.pt"));
}
