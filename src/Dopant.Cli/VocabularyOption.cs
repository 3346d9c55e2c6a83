using System.CommandLine;
using Dopant.Data;
using Dopant.Training;

namespace Dopant.Cli;

/// <summary>
/// <c>--vocab FILE</c>: the words of a model file that does not carry them (a PyTorch state dict saved with
/// safetensors), one a line in id order.
/// </summary>
internal static class VocabularyOption
{
    public static Option<string?> Create() => new("--vocab")
    {
        Description = "Vocabulary file, one word a line in id order, for a model file without 'dopant.vocab' metadata (a PyTorch state dict).",
    };

    /// <summary>Loads the model file <paramref name="path"/>, with the vocabulary of <c>--vocab</c> when given.</summary>
    public static ModelCheckpoint LoadModel(ParseResult parse, Option<string?> option, string path) =>
        ModelCheckpoint.Load(path, parse.GetValue(option) is { } file ? Vocabulary.ReadWordList(file) : null);
}
