using System.Net.Sockets;
using Dopant.Trials;
using Npgsql;

namespace Dopant.PostgreSql;

/// <summary>
/// <see cref="ITrialStorage"/> in a PostgreSQL database: a trial is claimed with <c>SELECT … FOR UPDATE SKIP LOCKED</c>, its
/// heartbeat comes from the server's clock, and its checkpoint is a column, so workers need no shared file system. The
/// schema is created on first use and versioned (<c>dopant_schema</c>); every statement is parameterized. After the
/// first connection, an operation that loses the server retries with backoff for up to <see cref="RetryFor"/>, so a
/// restarted server loses no work.
/// </summary>
public sealed class PostgresTrialStorage : ITrialStorage
{
    /// <summary>The schema version this code creates and reads.</summary>
    public const int SchemaVersion = 1;

    private readonly NpgsqlDataSource _source;

    private PostgresTrialStorage(PostgresUrl url, NpgsqlDataSource source, TimeSpan retryFor) => (Url, _source, RetryFor) = (url, source, retryFor);

    /// <summary>The database's URL (no password).</summary>
    public PostgresUrl Url { get; }

    /// <summary>How long an operation retries a lost server before it gives up.</summary>
    public TimeSpan RetryFor { get; }

    /// <summary>Connects to <paramref name="url"/> and creates or checks the schema; fails at once (no retry) when the server cannot be used.</summary>
    /// <exception cref="IOException">The server is unreachable, refuses the login, or lacks the database; one line, naming the URL, never a password.</exception>
    /// <exception cref="InvalidDataException">The database holds a newer schema than this Dopant knows.</exception>
    public static PostgresTrialStorage Open(PostgresUrl url, TimeSpan? retryFor = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        // Npgsql prepares the statements each connection runs repeatedly (the claim, the completion...), which spares the
        // server their parsing and planning on every trial.
        NpgsqlDataSource source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(url.ConnectionString) { MaxAutoPrepare = 16 });
        var storage = new PostgresTrialStorage(url, source, retryFor ?? TimeSpan.FromSeconds(60));
        try
        {
            using NpgsqlConnection connection = storage.Connect();
            Migrate(connection);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        return storage;
    }

    /// <inheritdoc/>
    public Study CreateStudy(string name, string settings)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(settings);
        Study study = Run(connection =>
        {
            Execute(connection, "INSERT INTO dopant_studies (name, settings) VALUES (@name, @settings) ON CONFLICT (name) DO NOTHING", ("name", name), ("settings", settings));
            return Find(connection, name)!;
        });
        if (study.Settings != settings)
            throw new ArgumentException($"Study '{name}' already exists with other settings; choose another name or give the same settings.");
        return study;
    }

    /// <inheritdoc/>
    public Study? FindStudy(string name) => Run(connection => Find(connection, name));

    /// <inheritdoc/>
    public void CloseStudy(Study study) =>
        Run(connection => Execute(connection, "UPDATE dopant_studies SET closed = true WHERE id = @id", ("id", study.Id)));

    /// <inheritdoc/>
    public long Enqueue(Study study, string key, string payload, int maxRetries)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        return Run(connection =>
        {
            Execute(connection, "INSERT INTO dopant_trials (study_id, key, payload, state, max_retries) VALUES (@study, @key, @payload, 'waiting', @retries) " +
                "ON CONFLICT (study_id, key) DO NOTHING", ("study", study.Id), ("key", key), ("payload", payload), ("retries", maxRetries));
            using NpgsqlCommand select = Command(connection, "SELECT id FROM dopant_trials WHERE study_id = @study AND key = @key", ("study", study.Id), ("key", key));
            return (long)select.ExecuteScalar()!;
        });
    }

    /// <inheritdoc/>
    public Trial? Claim(Study study, string worker, TimeSpan grace)
    {
        ArgumentException.ThrowIfNullOrEmpty(worker);
        return Run(connection =>
        {
            // The stale trials' re-queueing, then the claim (which sees them waiting again), in one round trip: a batch
            // runs in one implicit transaction, so either both statements take effect or neither does.
            using var batch = new NpgsqlBatch(connection);
            batch.BatchCommands.Add(BatchCommand("UPDATE dopant_trials SET state = CASE WHEN attempts <= max_retries THEN 'waiting' ELSE 'failed' END, " +
                "error = 'the heartbeat of worker ' || coalesce(worker, '?') || ' stopped' " +
                "WHERE study_id = @study AND state = 'running' AND heartbeat < now() - make_interval(secs => @grace)",
                ("study", study.Id), ("grace", grace.TotalSeconds)));
            batch.BatchCommands.Add(BatchCommand(
                "UPDATE dopant_trials SET state = 'running', attempts = attempts + 1, worker = @worker, heartbeat = now() " +
                "WHERE id = (SELECT id FROM dopant_trials WHERE study_id = @study AND state = 'waiting' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) " +
                $"RETURNING {TrialColumns}", ("worker", worker), ("study", study.Id)));
            // The reader skips the first statement (it returns no rows) and reads the claim's RETURNING.
            using NpgsqlDataReader reader = batch.ExecuteReader();
            return reader.Read() ? ReadTrial(reader) : null;
        });
    }

    /// <inheritdoc/>
    public void Heartbeat(long trial, string worker) => Owned(trial, worker, "heartbeat = now()");

    /// <inheritdoc/>
    public void SaveCheckpoint(long trial, string worker, ReadOnlySpan<byte> checkpoint)
    {
        byte[] bytes = checkpoint.ToArray();
        Owned(trial, worker, "heartbeat = now(), checkpoint = @checkpoint", ("checkpoint", bytes));
    }

    /// <inheritdoc/>
    public byte[]? LoadCheckpoint(long trial) => Run(connection =>
    {
        using NpgsqlCommand select = Command(connection, "SELECT checkpoint FROM dopant_trials WHERE id = @id", ("id", trial));
        return select.ExecuteScalar() as byte[];
    });

    /// <inheritdoc/>
    public bool Complete(long trial, string worker, string result) => Run(connection =>
        Execute(connection, "UPDATE dopant_trials SET state = 'complete', result = @result " +
            "WHERE id = @id AND state = 'running' AND worker = @worker", ("result", result), ("id", trial), ("worker", worker)) == 1);

    /// <inheritdoc/>
    public void Fail(long trial, string worker, string error) => Run(connection =>
        Execute(connection, "UPDATE dopant_trials SET state = CASE WHEN attempts <= max_retries THEN 'waiting' ELSE 'failed' END, error = @error " +
            "WHERE id = @id AND state = 'running' AND worker = @worker", ("error", error), ("id", trial), ("worker", worker)));

    /// <inheritdoc/>
    /// <remarks>A session advisory lock on a connection of its own, released when disposed (or when the connection drops).</remarks>
    public IDisposable LockStudy(Study study)
    {
        NpgsqlConnection connection = Connect();
        Execute(connection, "SELECT pg_advisory_lock(7355609, @id)", ("id", (int)study.Id));
        return new StudyLock(connection, (int)study.Id);
    }

    private sealed class StudyLock(NpgsqlConnection connection, int study) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Execute(connection, "SELECT pg_advisory_unlock(7355609, @id)", ("id", study));
            }
            catch (NpgsqlException)
            {
                // The server dropped the session, and the lock with it.
            }
            connection.Dispose();
        }
    }

    /// <inheritdoc/>
    public int Unfinished(Study study) => Run(connection =>
    {
        using NpgsqlCommand count = Command(connection, "SELECT count(*) FROM dopant_trials WHERE study_id = @study AND state IN ('waiting', 'running')", ("study", study.Id));
        return (int)(long)count.ExecuteScalar()!;
    });

    /// <inheritdoc/>
    public IReadOnlyList<Trial> Trials(Study study) => Run(connection =>
    {
        using NpgsqlCommand select = Command(connection, $"SELECT {TrialColumns} FROM dopant_trials WHERE study_id = @study ORDER BY id", ("study", study.Id));
        using NpgsqlDataReader reader = select.ExecuteReader();
        var trials = new List<Trial>();
        while (reader.Read()) trials.Add(ReadTrial(reader));
        return trials;
    });

    /// <inheritdoc/>
    public void Dispose() => _source.Dispose();

    private const string TrialColumns = "id, key, payload, state, attempts, max_retries, worker, result, error";

    private static Trial ReadTrial(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), TrialStates.Parse(reader.GetString(3)), reader.GetInt32(4), reader.GetInt32(5),
        reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8));

    private static Study? Find(NpgsqlConnection connection, string name)
    {
        using NpgsqlCommand select = Command(connection, "SELECT id, name, settings, closed FROM dopant_studies WHERE name = @name", ("name", name));
        using NpgsqlDataReader reader = select.ExecuteReader();
        return reader.Read() ? new Study(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)) : null;
    }

    // An update that only the trial's current worker may make.
    private void Owned(long trial, string worker, string assignments, params (string Name, object Value)[] parameters)
    {
        int rows = Run(connection => Execute(connection, $"UPDATE dopant_trials SET {assignments} WHERE id = @id AND state = 'running' AND worker = @worker",
            [.. parameters, ("id", trial), ("worker", worker)]));
        if (rows == 0) throw new TrialLostException($"Trial {trial} is no longer running under worker '{worker}': its heartbeat went stale and it was re-queued.");
    }

    private static void Migrate(NpgsqlConnection connection)
    {
        using NpgsqlTransaction transaction = connection.BeginTransaction();
        // One migration at a time, whichever worker starts first.
        Execute(connection, "SELECT pg_advisory_xact_lock(7355608)");
        Execute(connection, "CREATE TABLE IF NOT EXISTS dopant_schema (version integer NOT NULL)");
        using (NpgsqlCommand select = Command(connection, "SELECT max(version) FROM dopant_schema"))
        {
            object? found = select.ExecuteScalar();
            int version = found is int v ? v : 0;
            if (version > SchemaVersion)
                throw new InvalidDataException($"The database holds Dopant's trial schema version {version}; this Dopant knows versions up to {SchemaVersion}: upgrade Dopant.");
            if (version == SchemaVersion)
            {
                transaction.Commit();
                return;
            }
        }
        Execute(connection, """
            CREATE TABLE dopant_studies (
                id bigserial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                settings text NOT NULL,
                closed boolean NOT NULL DEFAULT false,
                created timestamptz NOT NULL DEFAULT now());
            CREATE TABLE dopant_trials (
                id bigserial PRIMARY KEY,
                study_id bigint NOT NULL REFERENCES dopant_studies (id),
                key text NOT NULL,
                payload text NOT NULL,
                state text NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                max_retries integer NOT NULL CHECK (max_retries >= 0),
                worker text,
                heartbeat timestamptz,
                result text,
                error text,
                checkpoint bytea,
                UNIQUE (study_id, key));
            CREATE INDEX dopant_trials_by_state ON dopant_trials (study_id, state, id);
            INSERT INTO dopant_schema (version) VALUES (1);
            """);
        transaction.Commit();
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach ((string name, object value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach ((string name, object value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }

    private static int Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using NpgsqlCommand command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private NpgsqlConnection Connect()
    {
        try
        {
            return _source.OpenConnection();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            throw new IOException(message, e);
        }
    }

    // An operation on a fresh pooled connection; a lost server is retried with backoff (0.2 s doubling to 5 s) for RetryFor.
    private T Run<T>(Func<NpgsqlConnection, T> operation)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan wait = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                using NpgsqlConnection connection = _source.OpenConnection();
                return operation(connection);
            }
            catch (Exception e) when (IsTransient(e) && clock.Elapsed < RetryFor)
            {
                Thread.Sleep(wait);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            catch (Exception e) when (IsTransient(e))
            {
                throw new IOException($"Lost PostgreSQL at {Url} for {RetryFor.TotalSeconds:F0} s: {e.Message}", e);
            }
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState is "57P01" or "57P02" or "57P03" or "40001" or "40P01",
        NpgsqlException n => n.IsTransient || n.InnerException is SocketException or IOException or TimeoutException,
        _ => false,
    };

    // One line for what a user must fix: a server that cannot be reached or refuses the login, a missing database.
    private string? Describe(Exception e) => e switch
    {
        PostgresException { SqlState: "28P01" or "28000" } =>
            $"PostgreSQL at {Url} refused the login of user '{Url.User}': check the password in PGPASSWORD or the password file (~/.pgpass or PGPASSFILE).",
        PostgresException { SqlState: "3D000" } => $"PostgreSQL at {Url} has no database '{Url.Database}': create it first (createdb {Url.Database}).",
        NpgsqlException n when n.Message.Contains("password", StringComparison.OrdinalIgnoreCase) =>
            $"PostgreSQL at {Url} asks user '{Url.User}' for a password: set PGPASSWORD or add the password to ~/.pgpass (or the file PGPASSFILE names).",
        NpgsqlException n when n.InnerException is SocketException or TimeoutException || n.IsTransient =>
            $"Cannot reach PostgreSQL at {Url}: {(n.InnerException ?? n).Message}",
        _ => null,
    };
}
