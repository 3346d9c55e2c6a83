using System.Collections.Concurrent;
using System.Text.Json;
using Dopant.PostgreSql;
using Dopant.Trials;

namespace Dopant.Tests.Trials;

/// <summary>The trial storage on a real PostgreSQL server: the contract, a server restart, bad connections, schema versions.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTrialStorageTests(PostgresServer server) : TrialStorageContract
{
    protected override Func<ITrialStorage> NewStorage()
    {
        PostgresUrl url = server.NewDatabase();
        return () => PostgresTrialStorage.Open(url);
    }

    [Fact]
    public async Task Workers_ride_out_a_server_restart_and_lose_nothing()
    {
        Assert.True(server.CanRestart, "the test server's folder is unknown; set DOPANT_TEST_POSTGRES_DIR with DOPANT_TEST_POSTGRES");
        PostgresUrl url = server.NewDatabase();
        using (PostgresTrialStorage setup = PostgresTrialStorage.Open(url))
        {
            Study study = setup.CreateStudy("restart", "{}");
            for (int i = 0; i < 40; i++) setup.Enqueue(study, $"t{i}", $$"""{"level":{{i}}}""", maxRetries: 3);
            setup.CloseStudy(study);
        }
        var runs = new ConcurrentDictionary<string, int>();
        Task<int>[] workers = [.. Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            using PostgresTrialStorage storage = PostgresTrialStorage.Open(url, TimeSpan.FromSeconds(60));
            return new TrialWorker(storage, $"w{w}", Fast with { Grace = TimeSpan.FromSeconds(20), HeartbeatInterval = TimeSpan.FromSeconds(1) })
                .Run("restart", context => { Thread.Sleep(50); return Execute(context, runs); });
        }))];
        await Task.Delay(400);
        server.Restart();
        await Task.WhenAll(workers);

        using PostgresTrialStorage check = PostgresTrialStorage.Open(url);
        IReadOnlyList<Trial> trials = check.Trials(check.FindStudy("restart")!);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(40, trials.Count);
        Assert.Equal(40, workers.Sum(w => w.Result));
    }

    [Fact]
    public void Bad_connections_fail_in_one_line_without_the_password()
    {
        PostgresUrl url = server.Url;
        var unreachable = Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url with { Host = "127.0.0.1", Port = FreePort() }));
        Assert.StartsWith("Cannot reach PostgreSQL at postgresql://", unreachable.Message);
        Assert.DoesNotContain('\n', unreachable.Message);

        string? saved = Environment.GetEnvironmentVariable("PGPASSWORD");
        try
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", "wrong-secret");
            var refused = Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url));
            Assert.Contains("refused the login of user 'dopant'", refused.Message);
            Assert.DoesNotContain("wrong-secret", refused.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", saved);
        }

        Assert.Contains("has no database 'absent'", Assert.Throws<IOException>(() => PostgresTrialStorage.Open(url with { Database = "absent" })).Message);
        var withPassword = Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("postgresql://dopant:hunter2@localhost:5432/db"));
        Assert.DoesNotContain("hunter2", withPassword.Message);
        Assert.Contains("PGPASSWORD", withPassword.Message);
        Assert.Contains("is not a postgresql://", Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("mysql://a@b/c")).Message);
        Assert.Contains("needs a user and a database", Assert.Throws<ArgumentException>(() => PostgresUrl.Parse("postgresql://localhost:5432/")).Message);
        Assert.Equal(new PostgresUrl("u", "/tmp/sock", 5433, "db"), PostgresUrl.Parse("postgresql://u@localhost:5433/db?host=%2Ftmp%2Fsock"));
    }

    [Fact]
    public void A_database_of_a_newer_schema_is_refused()
    {
        PostgresUrl url = server.NewDatabase();
        PostgresTrialStorage.Open(url).Dispose();
        using (var source = Npgsql.NpgsqlDataSource.Create(url.ConnectionString))
        using (var command = source.CreateCommand("INSERT INTO dopant_schema (version) VALUES (99)"))
            command.ExecuteNonQuery();
        var e = Assert.Throws<InvalidDataException>(() => PostgresTrialStorage.Open(url));
        Assert.Contains("schema version 99; this Dopant knows versions up to 1", e.Message);
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }
}
