using System.CommandLine;
using Dopant.PostgreSql;
using Dopant.Trials;

namespace Dopant.Cli;

/// <summary>
/// <c>--storage</c>: a PostgreSQL URL (<c>postgresql://user@host:port/database</c>, the password never in it) for workers on
/// many machines, or a local folder for workers on this one; parsed at the edge.
/// </summary>
internal static class StorageOption
{
    public static Option<string> Create() => new("--storage")
    {
        Description = "Where the trials live: a PostgreSQL database, postgresql://user@host:port/database (?host=/socket/folder for a Unix socket; the password from PGPASSWORD or ~/.pgpass, never the URL), for workers on many machines; or a folder, for workers on this machine.",
        Required = true,
    };

    public static ITrialStorage Open(ParseResult parse, Option<string> option) => Open(parse.GetValue(option)!);

    public static ITrialStorage Open(string text) =>
        text.StartsWith("postgresql:", StringComparison.Ordinal) || text.StartsWith("postgres:", StringComparison.Ordinal)
            ? PostgresTrialStorage.Open(PostgresUrl.Parse(text))
            : new FileTrialStorage(text);
}
