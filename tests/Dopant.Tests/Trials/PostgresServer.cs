using System.Diagnostics;
using Dopant.PostgreSql;

namespace Dopant.Tests.Trials;

/// <summary>
/// The real PostgreSQL server the storage tests run against: the one <c>.ci/run</c> started (its URL in
/// <c>DOPANT_TEST_POSTGRES</c>, its folder in <c>DOPANT_TEST_POSTGRES_DIR</c>), else a private cluster this fixture
/// starts with <c>scripts/postgres_server.sh</c> and stops at the end. Each test gets a database of its own.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string? _folder;
    private readonly bool _owned;
    private int _databases;

    public PostgresServer()
    {
        Environment.SetEnvironmentVariable("PGPASSWORD", "dopant");
        if (Environment.GetEnvironmentVariable("DOPANT_TEST_POSTGRES") is { Length: > 0 } given)
        {
            Url = PostgresUrl.Parse(given);
            _folder = Environment.GetEnvironmentVariable("DOPANT_TEST_POSTGRES_DIR") is { Length: > 0 } folder ? folder : null;
            return;
        }
        _folder = Path.Combine("/tmp", "dopant-pg-" + Guid.NewGuid().ToString("N")[..8]);
        _owned = true;
        Url = PostgresUrl.Parse(Script("start", _folder).Trim());
    }

    /// <summary>The server's maintenance database.</summary>
    public PostgresUrl Url { get; }

    /// <summary>A fresh, empty database on the server.</summary>
    public PostgresUrl NewDatabase()
    {
        string name = $"test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid().ToString("N")[..6]}";
        using var source = Npgsql.NpgsqlDataSource.Create(Url.ConnectionString);
        using var command = source.CreateCommand($"CREATE DATABASE {name}");
        command.ExecuteNonQuery();
        return Url with { Database = name };
    }

    /// <summary>Stops and starts the server (same port); only for a server this fixture started.</summary>
    public void Restart()
    {
        if (_folder is null) throw new InvalidOperationException("The server's folder is unknown (DOPANT_TEST_POSTGRES_DIR), so it cannot be restarted.");
        Script("restart", _folder);
    }

    /// <summary>Whether <see cref="Restart"/> may be called.</summary>
    public bool CanRestart => _folder is not null;

    public void Dispose()
    {
        if (_owned) Script("stop", _folder!);
    }

    private static string Script(string command, string folder)
    {
        string script = Path.Combine(GuideExamplesTests.RepositoryRoot(), "scripts", "postgres_server.sh");
        var start = new ProcessStartInfo("bash", [script, command, folder]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"postgres_server.sh {command} failed: {error.Result}");
        return output;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}
