using System.Diagnostics;

namespace Dopant.Trials;

/// <summary>
/// Claims a study's trials one at a time and runs them until the study is closed and none is waiting or running: a
/// background heartbeat keeps the running trial claimed; a trial that throws is recorded as failed (re-queued while
/// it has retries); a trial taken away (its heartbeat went stale) is dropped without a result.
/// </summary>
public sealed class TrialWorker
{
    private readonly ITrialStorage _storage;
    private readonly TrialWorkerOptions _options;

    /// <summary>A worker named <paramref name="name"/> (unique among the study's workers) on <paramref name="storage"/>.</summary>
    public TrialWorker(ITrialStorage storage, string name, TrialWorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentException.ThrowIfNullOrEmpty(name);
        _storage = storage;
        Name = name;
        _options = options ?? new TrialWorkerOptions();
        _options.Validate();
    }

    /// <summary>The worker's name, stored with the trials it claims.</summary>
    public string Name { get; }

    /// <summary>A name unique to this process on this machine: host, process id and a random suffix.</summary>
    public static string DefaultName() => $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// Runs the study's trials through <paramref name="execute"/>, which returns a trial's result as JSON, until the study
    /// is closed and finished (or <paramref name="cancellationToken"/> fires); returns how many trials this worker completed.
    /// </summary>
    /// <exception cref="ArgumentException">The study does not exist.</exception>
    public int Run(string study, Func<TrialContext, string> execute, Action<string>? log = null, CancellationToken cancellationToken = default) =>
        Run(study, execute, propose: null, log, cancellationToken);

    /// <summary>
    /// As <see cref="Run(string, Func{TrialContext, string}, Action{string}?, CancellationToken)"/>, for a study whose trials
    /// the workers propose themselves (a search): when none waits, this worker calls <paramref name="propose"/> with every
    /// trial so far, under the study's lock, and queues and claims what it returns; the study is done when
    /// <paramref name="propose"/> returns null and no trial is waiting or running.
    /// </summary>
    public int Run(string study, Func<TrialContext, string> execute, Func<IReadOnlyList<Trial>, TrialProposal?>? propose, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(execute);
        int completed = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            Study current = _storage.FindStudy(study) ?? throw new ArgumentException($"No study '{study}' in the storage.");
            Trial? trial = _storage.Claim(current, Name, _options.Grace);
            if (trial is null && propose is not null)
            {
                using IDisposable held = _storage.LockStudy(current);
                trial = _storage.Claim(current, Name, _options.Grace);
                if (trial is null && propose(_storage.Trials(current)) is { } proposal)
                {
                    _storage.Enqueue(current, proposal.Key, proposal.Payload, proposal.MaxRetries);
                    trial = _storage.Claim(current, Name, _options.Grace);
                }
            }
            if (trial is null)
            {
                if ((current.Closed || propose is not null) && _storage.Unfinished(current) == 0) break;
                cancellationToken.WaitHandle.WaitOne(_options.PollInterval);
                continue;
            }
            log?.Invoke($"trial {trial.Key} (attempt {trial.Attempts}): claimed");
            if (RunOne(trial, execute, log, cancellationToken)) completed++;
        }
        return completed;
    }

    private bool RunOne(Trial trial, Func<TrialContext, string> execute, Action<string>? log, CancellationToken cancellationToken)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = new Thread(() =>
        {
            while (!stopHeartbeat.Token.WaitHandle.WaitOne(_options.HeartbeatInterval))
            {
                try
                {
                    _storage.Heartbeat(trial.Id, Name);
                }
                catch (TrialLostException)
                {
                    lost.Cancel();
                    return;
                }
                catch (IOException e)
                {
                    // The storage retried and gave up; the trial goes stale and is re-queued elsewhere.
                    log?.Invoke($"trial {trial.Key}: heartbeat failed ({e.Message})");
                    lost.Cancel();
                    return;
                }
            }
        }) { IsBackground = true, Name = "dopant-heartbeat" };
        heartbeat.Start();
        var clock = Stopwatch.StartNew();
        try
        {
            string result = execute(new TrialContext(_storage, trial, Name, lost.Token));
            if (_storage.Complete(trial.Id, Name, result))
            {
                log?.Invoke($"trial {trial.Key}: complete in {clock.Elapsed.TotalSeconds:F1} s");
                return true;
            }
            log?.Invoke($"trial {trial.Key}: finished after it was taken from this worker; its result is not recorded");
            return false;
        }
        catch (Exception e) when (e is TrialLostException || (e is OperationCanceledException && lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            log?.Invoke($"trial {trial.Key}: taken from this worker (its heartbeat went stale)");
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the trial stays running under this worker until its heartbeat goes stale, then resumes elsewhere.
            throw;
        }
        catch (Exception e)
        {
            _storage.Fail(trial.Id, Name, e.Message);
            log?.Invoke($"trial {trial.Key}: failed ({e.Message})");
            return false;
        }
        finally
        {
            stopHeartbeat.Cancel();
            heartbeat.Join();
        }
    }
}
