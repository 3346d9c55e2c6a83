using System.CommandLine;
using Dopant.PostgreSql;

namespace Dopant.Cli;

/// <summary><c>--storage postgresql://user@host:port/database</c>, parsed at the edge; the password never on the command line.</summary>
internal static class StorageOption
{
    public static Option<string> Create() => new("--storage")
    {
        Description = "The PostgreSQL database of the trials: postgresql://user@host:port/database (?host=/socket/folder for a Unix socket); the password from PGPASSWORD or ~/.pgpass, never the URL.",
        Required = true,
    };

    public static PostgresUrl Get(ParseResult parse, Option<string> option) => PostgresUrl.Parse(parse.GetValue(option)!);
}
