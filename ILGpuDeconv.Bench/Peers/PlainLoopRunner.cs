using ILGpuDeconv.Bench.Benchmarks;

namespace ILGpuDeconv.Bench.Peers;

/// <summary>The plain C# loop (<see cref="PlainLoopConv2DTranspose"/>), buffers allocated once.</summary>
public sealed class PlainLoopRunner : IPassRunner
{
    private readonly PlainLoopConv2DTranspose loop;
    private readonly ConvolutionPass pass;
    private readonly float[] x;
    private readonly float[] y;
    private readonly float[] dy;
    private readonly float[] dx;
    private readonly float[] dk;
    private readonly float[] db;

    public PlainLoopRunner(BenchmarkShape shape, ConvolutionPass pass, float[] kernel, float[]? bias)
    {
        System.ArgumentNullException.ThrowIfNull(shape);
        var g = Conv2DTransposeGeometry.Create(shape.Options, shape.InputShape);
        this.pass = pass;
        loop = new PlainLoopConv2DTranspose(g, kernel, bias, relu: false);
        x = HostData.Uniform(g.InputElements, 3);
        dy = HostData.Uniform(g.OutputElements, 4);
        y = new float[g.OutputElements];
        dx = new float[g.InputElements];
        dk = new float[g.KernelShape.ElementCount];
        db = new float[g.Filters];
    }

    public string Implementation => "naive";

    public string Accelerator => "host";

    public void Run()
    {
        switch (pass)
        {
            case ConvolutionPass.Forward:
                loop.Forward(x, y);
                break;
            case ConvolutionPass.InputGradient:
                loop.InputGradient(dy, dx);
                break;
            default:
                loop.KernelGradient(x, dy, dk, db);
                break;
        }
    }

    public float[] Result() => pass switch
    {
        ConvolutionPass.Forward => y,
        ConvolutionPass.InputGradient => dx,
        _ => dk,
    };

    public void Dispose()
    {
    }
}
