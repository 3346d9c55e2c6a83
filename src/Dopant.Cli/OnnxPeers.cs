using Dopant.Inference;
using Dopant.Models;
using Dopant.Numerics;
using Dopant.Onnx;
using Dopant.OnnxRuntime;

namespace Dopant.Cli;

/// <summary>The ONNX Runtime models a benchmark times beside Dopant's, and the temporary folder of the ones it exported.</summary>
internal sealed class OnnxPeers : IDisposable
{
    private readonly List<(string Name, IStreamingModel Model)> _models = [];
    private string? _folder;

    /// <summary>The peers, in the order added.</summary>
    public IReadOnlyList<(string Name, IStreamingModel Model)> Models => _models;

    /// <summary>Exports <paramref name="model"/> in fp32, with and without its head, and opens both.</summary>
    public void Export(LanguageModel<float> model, string name)
    {
        _folder ??= Directory.CreateTempSubdirectory("dopant-onnx-").FullName;
        string step = Path.Combine(_folder, $"{_models.Count}.step.onnx"), recurrent = Path.Combine(_folder, $"{_models.Count}.recurrent.onnx");
        OnnxExport.Write(model, step);
        OnnxExport.Write(model, recurrent, withHead: false);
        Open(step, recurrent, name);
    }

    /// <summary>Opens a step file (and optionally its recurrent part) on the shared pool's thread count.</summary>
    public void Open(string step, string? recurrent, string name) =>
        _models.Add((name, new OnnxRuntimeModel(step, recurrent, WorkerPool.SharedThreadCount)));

    public void Dispose()
    {
        foreach ((_, IStreamingModel model) in _models) ((IDisposable)model).Dispose();
        if (_folder is not null) Directory.Delete(_folder, recursive: true);
    }
}
