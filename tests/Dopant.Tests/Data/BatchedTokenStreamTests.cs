using Dopant.Data;

namespace Dopant.Tests.Data;

public sealed class BatchedTokenStreamTests
{
    // 23 tokens in 4 columns: 5 steps, the last 3 tokens dropped. Column b is tokens 5b .. 5b+4:
    //   t=0:  0  5 10 15
    //   t=1:  1  6 11 16
    //   t=2:  2  7 12 17
    //   t=3:  3  8 13 18
    //   t=4:  4  9 14 19
    private static readonly int[] Tokens = Enumerable.Range(0, 23).ToArray();

    [Fact]
    public void LayoutPutsContiguousSegmentsInColumns()
    {
        var stream = new BatchedTokenStream(Tokens, 4);

        Assert.Equal(4, stream.BatchSize);
        Assert.Equal(5, stream.Length);
        Assert.Equal([0, 5, 10, 15], stream.Row(0).ToArray());
        Assert.Equal([2, 7, 12, 17], stream.Row(2).ToArray());
        Assert.Equal([4, 9, 14, 19], stream.Row(4).ToArray());
        for (int t = 0; t < stream.Length; t++)
            for (int b = 0; b < stream.BatchSize; b++)
                Assert.Equal(Tokens[b * stream.Length + t], stream[t, b]);
    }

    [Fact]
    public void OddLengthAndOddBatchTrimTheTail()
    {
        var stream = new BatchedTokenStream([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 3);

        Assert.Equal(3, stream.Length);
        Assert.Equal([10, 13, 16], stream.Row(0).ToArray());
        Assert.Equal([11, 14, 17], stream.Row(1).ToArray());
        Assert.Equal([12, 15, 18], stream.Row(2).ToArray());
    }

    [Fact]
    public void RowAndIndexerRejectOutOfRange()
    {
        var stream = new BatchedTokenStream(Tokens, 4);

        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Row(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Row(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream[0, 4]);
    }

    [Fact]
    public void TooFewTokensForTheBatchIsAnError()
    {
        Assert.Throws<ArgumentException>(() => new BatchedTokenStream([1, 2, 3], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchedTokenStream([1, 2, 3], 0));
    }

    [Fact]
    public void WindowsStepByBpttAndTheLastIsShort()
    {
        var stream = new BatchedTokenStream(Tokens, 4);

        Assert.Equal([new BpttWindow(0, 3), new BpttWindow(3, 1)], stream.Windows(3));
        Assert.Equal([new BpttWindow(0, 4)], stream.Windows(4));
        Assert.Equal([new BpttWindow(0, 4)], stream.Windows(35));
        Assert.Equal([new BpttWindow(0, 2), new BpttWindow(2, 2)], stream.Windows(2));
        Assert.Equal(2, stream.WindowCount(3));
        Assert.Equal(1, stream.WindowCount(4));
        Assert.Equal(4, stream.WindowCount(1));
        Assert.Equal(16, stream.TargetCount);
        Assert.Equal(stream.TargetCount, stream.Windows(3).Sum(w => (long)w.Length * stream.BatchSize));
    }

    [Fact]
    public void AOneStepStreamHasNoWindows()
    {
        var stream = new BatchedTokenStream([1, 2, 3], 3);

        Assert.Empty(stream.Windows(5));
        Assert.Equal(0, stream.WindowCount(5));
        Assert.Equal(0, stream.TargetCount);
    }

    [Fact]
    public void CopyWindowWritesTimeMajorInputsAndTargetsOneStepLater()
    {
        var stream = new BatchedTokenStream(Tokens, 4);
        var inputs = new int[3 * 4];
        var targets = new int[3 * 4];

        Assert.Equal(12, stream.CopyWindow(new BpttWindow(0, 3), inputs, targets));
        Assert.Equal([0, 5, 10, 15, 1, 6, 11, 16, 2, 7, 12, 17], inputs);
        Assert.Equal([1, 6, 11, 16, 2, 7, 12, 17, 3, 8, 13, 18], targets);

        Array.Fill(inputs, -1);
        Array.Fill(targets, -1);
        Assert.Equal(4, stream.CopyWindow(stream.WindowAt(3, 3), inputs, targets));
        Assert.Equal([3, 8, 13, 18, -1, -1, -1, -1, -1, -1, -1, -1], inputs);
        Assert.Equal([4, 9, 14, 19, -1, -1, -1, -1, -1, -1, -1, -1], targets);
    }

    [Fact]
    public void CopyWindowRejectsShortBuffersAndWindowsPastTheEnd()
    {
        var stream = new BatchedTokenStream(Tokens, 4);
        var buffer = new int[12];

        Assert.Throws<ArgumentException>(() => stream.CopyWindow(new BpttWindow(0, 3), new int[11], buffer));
        Assert.Throws<ArgumentException>(() => stream.CopyWindow(new BpttWindow(0, 3), buffer, new int[11]));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.CopyWindow(new BpttWindow(3, 2), buffer, buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.WindowAt(4, 3));
    }
}
