using static TorchSharp.torch;

/// <summary>
/// The training stream cut into B columns and read in windows of bptt steps, as word_lm.py's batchify and get_window:
/// column b is the b-th contiguous segment of the stream; a window at row i gives inputs rows [i, i + T) and targets rows
/// [i + 1, i + 1 + T), T = min(bptt, rows - 1 - i).
/// </summary>
sealed class TokenWindows
{
    readonly Tensor _data; // [rows x B] int64

    TokenWindows(Tensor data, int vocabularySize, string source)
    {
        _data = data;
        VocabularySize = vocabularySize;
        Source = source;
    }

    public int VocabularySize { get; }

    /// <summary>The folder read, or "random".</summary>
    public string Source { get; }

    public long Rows => _data.shape[0];

    /// <summary>A PTB-format folder: tokens are a line's whitespace-separated words then &lt;eos&gt;; the vocabulary is in
    /// first-occurrence order over train, valid and test (word_lm.py's Corpus), so its size matches Dopant's and PyTorch's;
    /// the windows are train.txt's.</summary>
    public static TokenWindows FromCorpus(string folder, int batchSize)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        List<long> train = [];
        foreach (string split in new[] { "train", "valid", "test" })
        {
            string path = Path.Combine(folder, split + ".txt");
            if (!File.Exists(path)) throw new FileNotFoundException($"no {split}.txt in {folder}", path);
            foreach (string line in File.ReadLines(path))
            {
                foreach (string word in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Append("<eos>"))
                {
                    if (!ids.TryGetValue(word, out int id)) ids[word] = id = ids.Count;
                    if (split == "train") train.Add(id);
                }
            }
        }
        return new TokenWindows(Batchify(train.ToArray(), batchSize), ids.Count, Path.GetFullPath(folder));
    }

    /// <summary>Uniformly random tokens, enough rows for <paramref name="windows"/> windows without wrapping (only
    /// throughput is measured, and a window costs the same whatever its tokens).</summary>
    public static TokenWindows Random(int vocabularySize, int windows, int bptt, int batchSize, long seed)
    {
        var generator = new Generator((ulong)seed);
        long rows = (long)windows * bptt + 1;
        return new TokenWindows(randint(0, vocabularySize, [rows, batchSize], dtype: int64, generator: generator),
            vocabularySize, "random");
    }

    /// <summary>The window starts: 0, bptt, 2 bptt, ... below rows - 1.</summary>
    public IReadOnlyList<long> Starts(int bptt)
    {
        var starts = new List<long>();
        for (long i = 0; i < Rows - 1; i += bptt) starts.Add(i);
        return starts;
    }

    public (Tensor Inputs, Tensor Targets) Window(long start, int bptt)
    {
        long length = Math.Min(bptt, Rows - 1 - start);
        return (_data.narrow(0, start, length), _data.narrow(0, start + 1, length));
    }

    static Tensor Batchify(long[] stream, int batchSize)
    {
        long rows = stream.Length / batchSize;
        if (rows < 2) throw new ArgumentException($"{stream.Length} training tokens are too few for a batch of {batchSize}");
        using Tensor flat = tensor(stream[..(int)(rows * batchSize)]);
        return flat.view(batchSize, rows).t().contiguous();
    }
}
