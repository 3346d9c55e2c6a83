using System.Text.Json;
using System.Text.Json.Serialization;
using Dopant.IO;

namespace Dopant.Trials;

/// <summary>
/// <see cref="ITrialStorage"/> in a local folder, for workers on one machine: the studies and trials in
/// <c>trials.json</c>, checkpoints in <c>checkpoints/</c>, every change made under an exclusive lock on <c>trials.lock</c>
/// and written atomically, heartbeats from the machine's clock.
/// </summary>
public sealed class FileTrialStorage : ITrialStorage
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter<TrialState>(JsonNamingPolicy.SnakeCaseLower) },
    };

    private readonly string _state, _lock, _checkpoints;

    /// <summary>Opens (creating if needed) the storage in <paramref name="folder"/>.</summary>
    public FileTrialStorage(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        _checkpoints = Path.Combine(Folder, "checkpoints");
        Directory.CreateDirectory(_checkpoints);
        (_state, _lock) = (Path.Combine(Folder, "trials.json"), Path.Combine(Folder, "trials.lock"));
    }

    /// <summary>The storage's folder.</summary>
    public string Folder { get; }

    private sealed class StoredTrial
    {
        public long Id { get; set; }
        public long Study { get; set; }
        public string Key { get; set; } = "";
        public string Payload { get; set; } = "";
        public TrialState State { get; set; }
        public int Attempts { get; set; }
        public int MaxRetries { get; set; }
        public string? Worker { get; set; }
        public DateTime? Heartbeat { get; set; }
        public string? Result { get; set; }
        public string? Error { get; set; }

        public Trial ToTrial() => new(Id, Key, Payload, State, Attempts, MaxRetries, Worker, Result, Error);
    }

    private sealed class Contents
    {
        public List<Study> Studies { get; set; } = [];
        public List<StoredTrial> Trials { get; set; } = [];
    }

    /// <inheritdoc/>
    public Study CreateStudy(string name, string settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Study study = Change(c =>
        {
            if (c.Studies.FirstOrDefault(s => s.Name == name) is { } found) return found;
            var created = new Study(c.Studies.Count + 1, name, settings, false);
            c.Studies.Add(created);
            return created;
        });
        if (study.Settings != settings)
            throw new ArgumentException($"Study '{name}' already exists with other settings; choose another name or give the same settings.");
        return study;
    }

    /// <inheritdoc/>
    public Study? FindStudy(string name) => Change(c => c.Studies.FirstOrDefault(s => s.Name == name));

    /// <inheritdoc/>
    public void CloseStudy(Study study) => Change(c =>
    {
        int at = c.Studies.FindIndex(s => s.Id == study.Id);
        c.Studies[at] = c.Studies[at] with { Closed = true };
        return 0;
    });

    /// <inheritdoc/>
    public long Enqueue(Study study, string key, string payload, int maxRetries)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        return Change(c =>
        {
            if (c.Trials.FirstOrDefault(t => t.Study == study.Id && t.Key == key) is { } found) return found.Id;
            var trial = new StoredTrial { Id = c.Trials.Count + 1, Study = study.Id, Key = key, Payload = payload, State = TrialState.Waiting, MaxRetries = maxRetries };
            c.Trials.Add(trial);
            return trial.Id;
        });
    }

    /// <inheritdoc/>
    public Trial? Claim(Study study, string worker, TimeSpan grace) => Change(c =>
    {
        DateTime now = DateTime.UtcNow;
        foreach (StoredTrial stale in c.Trials.Where(t => t.Study == study.Id && t.State == TrialState.Running && t.Heartbeat < now - grace))
        {
            stale.State = stale.Attempts <= stale.MaxRetries ? TrialState.Waiting : TrialState.Failed;
            stale.Error = $"the heartbeat of worker {stale.Worker} stopped";
        }
        StoredTrial? next = c.Trials.FirstOrDefault(t => t.Study == study.Id && t.State == TrialState.Waiting);
        if (next is null) return null;
        (next.State, next.Worker, next.Heartbeat) = (TrialState.Running, worker, now);
        next.Attempts++;
        return next.ToTrial();
    });

    /// <inheritdoc/>
    public void Heartbeat(long trial, string worker) => Owned(trial, worker, t => t.Heartbeat = DateTime.UtcNow);

    /// <inheritdoc/>
    public void SaveCheckpoint(long trial, string worker, ReadOnlySpan<byte> checkpoint)
    {
        byte[] bytes = checkpoint.ToArray();
        Owned(trial, worker, t =>
        {
            AtomicFile.Write(CheckpointPath(trial), stream => stream.Write(bytes));
            t.Heartbeat = DateTime.UtcNow;
        });
    }

    /// <inheritdoc/>
    public byte[]? LoadCheckpoint(long trial)
    {
        using FileStream held = Lock(_lock);
        return File.Exists(CheckpointPath(trial)) ? File.ReadAllBytes(CheckpointPath(trial)) : null;
    }

    /// <inheritdoc/>
    public bool Complete(long trial, string worker, string result) => Change(c =>
    {
        StoredTrial? t = c.Trials.FirstOrDefault(t => t.Id == trial && t.State == TrialState.Running && t.Worker == worker);
        if (t is null) return false;
        (t.State, t.Result) = (TrialState.Complete, result);
        return true;
    });

    /// <inheritdoc/>
    public void Fail(long trial, string worker, string error) => Change(c =>
    {
        if (c.Trials.FirstOrDefault(t => t.Id == trial && t.State == TrialState.Running && t.Worker == worker) is { } t)
            (t.State, t.Error) = (t.Attempts <= t.MaxRetries ? TrialState.Waiting : TrialState.Failed, error);
        return 0;
    });

    /// <inheritdoc/>
    public IDisposable LockStudy(Study study) => Lock(Path.Combine(Folder, $"study-{study.Id}.lock"));

    /// <inheritdoc/>
    public int Unfinished(Study study) => Change(c => c.Trials.Count(t => t.Study == study.Id && t.State is TrialState.Waiting or TrialState.Running));

    /// <inheritdoc/>
    public IReadOnlyList<Trial> Trials(Study study) => Change(c => c.Trials.Where(t => t.Study == study.Id).Select(t => t.ToTrial()).ToList());

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private string CheckpointPath(long trial) => Path.Combine(_checkpoints, $"{trial}.bin");

    private void Owned(long trial, string worker, Action<StoredTrial> change)
    {
        bool owned = Change(c =>
        {
            StoredTrial? t = c.Trials.FirstOrDefault(t => t.Id == trial && t.State == TrialState.Running && t.Worker == worker);
            if (t is not null) change(t);
            return t is not null;
        });
        if (!owned) throw new TrialLostException($"Trial {trial} is no longer running under worker '{worker}': its heartbeat went stale and it was re-queued.");
    }

    // Reads, changes and (when changed) rewrites the contents under the folder's lock, which other processes wait for.
    private T Change<T>(Func<Contents, T> change)
    {
        using FileStream held = Lock(_lock);
        Contents contents = File.Exists(_state)
            ? JsonSerializer.Deserialize<Contents>(File.ReadAllText(_state), Json) ?? throw new InvalidDataException($"'{_state}' is empty.")
            : new Contents();
        string before = JsonSerializer.Serialize(contents, Json);
        T result = change(contents);
        string after = JsonSerializer.Serialize(contents, Json);
        if (after != before) AtomicFile.WriteAllText(_state, after);
        return result;
    }

    private static FileStream Lock(string path)
    {
        for (int wait = 1; ; wait = Math.Min(wait * 2, 50))
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                Thread.Sleep(wait);
            }
        }
    }
}
