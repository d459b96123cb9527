using System;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary><see cref="WeightFiles.List"/> (what <c>ilgpudeconv inspect</c> prints) on each format it reads.</summary>
public sealed class WeightFilesTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    [TestCase("torch_state_dict.pt", "0.weight  float32  [3, 4, 3, 2]|0.bias  float32  [4]")]
    [TestCase("torch_checkpoint.pt", "model.deconv.weight  float64  [3, 4, 3, 2]|model.deconv.bias  float32  [4]|extra  float32  [3, 2]")]
    [TestCase("torch_weights.safetensors", "weight  F32  [3, 4, 3, 2]|bias  F32  [4]")]
    [TestCase("torch26_state_dict.pt", "0.weight  float32  [3, 4, 3, 2]|0.bias  float32  [4]")]
    [TestCase("torch26_weights.safetensors", "bias  F32  [4]|weight  F32  [3, 4, 3, 2]")]
    [TestCase("torch26_convtranspose.onnx", "0.weight  float32  [4, 3, 3, 3]|0.bias  float32  [6]")]
    [TestCase("torch_forward.npz", "x  <f4  [2, 3, 5, 4]|y  <f4  [2, 4, 11, 8]")]
    public void Lists_every_tensor_with_dtype_and_shape(string file, string expected) =>
        Assert.That(string.Join("|", WeightFiles.List(File(file)).Select(t => t.ToString())), Is.EqualTo(expected));

    [Test]
    public void A_malformed_file_is_an_InvalidDataException_naming_it() =>
        Assert.That(() => WeightFiles.List(File("torch_malicious.pt")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("torch_malicious.pt"));
}

/// <summary><c>verify --weights</c>: a conformance case checked with its kernel and bias taken from a weight file.</summary>
public sealed class VerifyWithWeightFilesTests
{
    [TestCase(".safetensors", WeightLayout.PyTorch)]
    [TestCase(".weights.h5", WeightLayout.Keras)]
    [TestCase(".npz", WeightLayout.Keras)]
    public void A_case_passes_with_its_own_weights_from_a_file_and_fails_with_others(string extension, WeightLayout layout)
    {
        var device = ILGpuDeconv.Tests.Infrastructure.TestAccelerators.Any();
        var c = ILGpuDeconv.Conformance.ConformanceCase.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "cases", "forward_basic.json"))
            .First(x => x.Options.UseBias);
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}{extension}");
        try
        {
            using (var layer = new Conv2DTranspose(device, c.Options with { Name = "writer" }))
            {
                layer.Build(c.InputShape[c.Options.DataFormat == DataFormat.ChannelsLast ? 3 : 1]);
                layer.SetWeights(c.Kernel, c.Bias);
                layer.SaveWeights(path, layout);
            }

            var good = ILGpuDeconv.Conformance.ConformanceRunner.Run(device, c, forwardOnly: false, path, layout);
            Assert.That(good.Passed, Is.True, string.Join("; ", good.Checks));

            // The same case with its weights zeroed: only the file's weights can make it pass.
            var blank = new ILGpuDeconv.Conformance.ConformanceCase
            {
                Id = c.Id, Options = c.Options, ActivationName = c.ActivationName, InputShape = c.InputShape, KernelShape = c.KernelShape,
                OutputShape = c.OutputShape, CropBegin = c.CropBegin, Input = c.Input, Kernel = new float[c.Kernel.Length], Bias = new float[c.Bias!.Length],
                Upstream = c.Upstream, Output = c.Output, GradInput = c.GradInput, GradKernel = c.GradKernel, GradBias = c.GradBias,
            };
            Assert.That(ILGpuDeconv.Conformance.ConformanceRunner.Run(device, blank, forwardOnly: false, path, layout).Passed, Is.True, "weights from the file");
            Assert.That(ILGpuDeconv.Conformance.ConformanceRunner.Run(device, blank, forwardOnly: false).Passed, Is.False, "the zeroed case alone fails: the check can fail");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
