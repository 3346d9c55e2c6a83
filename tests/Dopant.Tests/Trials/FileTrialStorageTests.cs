using Dopant.Tests.Data;
using Dopant.Trials;

namespace Dopant.Tests.Trials;

/// <summary>The trial storage in a local folder, shared by threads that each open it (as local worker processes do).</summary>
public sealed class FileTrialStorageTests : TrialStorageContract, IDisposable
{
    private readonly TemporaryFolder _folder = new();
    private int _storages;

    public void Dispose() => _folder.Dispose();

    protected override Func<ITrialStorage> NewStorage()
    {
        string folder = Path.Combine(_folder.Path, $"storage{++_storages}");
        return () => new FileTrialStorage(folder);
    }
}
