using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Dopant.Numerics;

namespace Dopant.Bench;

/// <summary>Blas.Sgemm on the LSTM's shapes, on 1 and 2 threads, reported in GFLOP/s.</summary>
[Config(typeof(GflopsConfig))]
public class SgemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private WorkerPool _pool = null!;

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Gemms[0];

    /// <summary>The threads of the pool the call runs on.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>The shapes to run.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.Gemms;

    /// <summary>Allocates the operands and the pool.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_a, _b, _c) = Operands.Create(Shape);
        _pool = new WorkerPool(Threads);
    }

    /// <summary>Stops the pool's workers.</summary>
    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    /// <summary>One product, C = A·B.</summary>
    [Benchmark]
    public void Sgemm() => Operands.Sgemm(Shape, _pool, _a, _b, _c);
}

/// <summary>Blas.Sgemv, on 1 and 2 threads, reported in GFLOP/s.</summary>
[Config(typeof(GflopsConfig))]
public class SgemvBenchmarks
{
    private float[] _a = [], _x = [], _y = [];
    private WorkerPool _pool = null!;

    /// <summary>The problem.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.Gemvs[0];

    /// <summary>The threads of the pool the call runs on.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>The shapes to run.</summary>
    public static IEnumerable<GemmShape> Shapes => GemmShape.Gemvs;

    /// <summary>Allocates the operands and the pool.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_a, _x, _y) = Operands.Create(Shape);
        _pool = new WorkerPool(Threads);
    }

    /// <summary>Stops the pool's workers.</summary>
    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    /// <summary>One product, y = A·x.</summary>
    [Benchmark]
    public void Sgemv() => Operands.Sgemm(Shape, _pool, _a, _x, _y);
}

/// <summary>Adds a GFLOP/s column computed from each case's <see cref="GemmShape"/> and mean time.</summary>
public sealed class GflopsConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public GflopsConfig() => AddColumn(new GflopsColumn());

    private sealed class GflopsColumn : IColumn
    {
        public string Id => "GFLOPs";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Floating-point operations per second (median time), 10^9";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null || benchmarkCase.Parameters["Shape"] is not GemmShape shape) return "-";
            return (shape.Flops / stats.Median).ToString("F1");
        }
    }
}
