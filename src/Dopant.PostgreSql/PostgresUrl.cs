using Npgsql;

namespace Dopant.PostgreSql;

/// <summary>
/// A <c>postgresql://user@host:port/database</c> URL (also <c>postgres://</c>; <c>?host=/socket/folder</c> for a Unix socket),
/// parsed once at the edge. The password is never part of it: Npgsql takes it from <c>PGPASSWORD</c> or a
/// <c>~/.pgpass</c>-style file (<c>PGPASSFILE</c>), so that it appears in no command line, log or message.
/// </summary>
public sealed record PostgresUrl(string User, string Host, int Port, string Database)
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">Not such a URL, or it holds a password; the message quotes the URL without any password.</exception>
    public static PostgresUrl Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("postgresql" or "postgres"))
            throw new ArgumentException($"--storage '{Redacted(text)}' is not a postgresql://user@host:port/database URL.");
        if (uri.UserInfo.Contains(':'))
            throw new ArgumentException($"--storage '{Redacted(text)}' holds a password: give it in PGPASSWORD or a ~/.pgpass file instead, so that it appears in no command line.");
        string user = Uri.UnescapeDataString(uri.UserInfo);
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (user.Length == 0 || database.Length == 0 || database.Contains('/'))
            throw new ArgumentException($"--storage '{text}' needs a user and a database: postgresql://user@host:port/database.");
        string host = uri.Host;
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            if (parts.Length == 2 && parts[0] == "host") host = Uri.UnescapeDataString(parts[1]);
            else throw new ArgumentException($"--storage '{text}': unknown parameter '{parts[0]}' (only host=/socket/folder is understood).");
        }
        if (host.Length == 0) throw new ArgumentException($"--storage '{text}' names no host.");
        return new PostgresUrl(user, host, uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port, database);
    }

    /// <summary>The Npgsql connection string (no password: Npgsql reads <c>PGPASSWORD</c> or the password file).</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = Host, Port = Port, Username = User, Database = Database,
        Timeout = 10, CommandTimeout = 60, ApplicationName = "dopant",
    }.ConnectionString;

    /// <inheritdoc/>
    public override string ToString() => $"postgresql://{User}@{(Host.StartsWith('/') ? "localhost" : Host)}:{Port}/{Database}" +
        (Host.StartsWith('/') ? $"?host={Host}" : "");

    private static string Redacted(string text)
    {
        int at = text.IndexOf('@'), scheme = text.IndexOf("://", StringComparison.Ordinal);
        int colon = scheme >= 0 && at > scheme ? text.IndexOf(':', scheme + 3) : -1;
        return colon >= 0 && colon < at ? text[..colon] + ":***" + text[at..] : text;
    }
}
