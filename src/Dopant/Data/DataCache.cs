namespace Dopant.Data;

/// <summary>Where downloaded and prepared data sets are kept between runs.</summary>
public static class DataCache
{
    /// <summary>The environment variable that, when set and not empty, names the cache root.</summary>
    public const string EnvironmentVariable = "DOPANT_CACHE";

    /// <summary>
    /// The cache root: the folder named by <c>DOPANT_CACHE</c> when it is set, else <c>~/.cache/dopant</c>.
    /// </summary>
    public static string DefaultRoot
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "dopant")
                : Path.GetFullPath(configured);
        }
    }
}
