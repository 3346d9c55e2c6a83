using Dopant.Numerics;

namespace Dopant.Tests.Numerics;

public class FmaPeakTests
{
    [Fact]
    public void The_fma_loop_reports_a_finite_positive_rate_on_one_and_all_threads()
    {
        double one = FmaPeak.GigaflopsPerSecond(1, repeats: 1);
        double all = FmaPeak.GigaflopsPerSecond(WorkerPool.Shared.ThreadCount, repeats: 1);
        Assert.True(double.IsFinite(one) && one > 0.1, $"{one}");
        Assert.True(double.IsFinite(all) && all > 0.1, $"{all}");
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.GigaflopsPerSecond(0));
    }
}
