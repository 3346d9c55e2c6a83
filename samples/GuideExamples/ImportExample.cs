using Dopant.Matrices;
using Dopant.Compression;
using Dopant.Data;
using Dopant.Models;
using Dopant.Training;

internal static class ImportExample
{
    public static void Run()
    {
        // A PyTorch state dict saved with safetensors, and its words one a line in id order.
        ModelCheckpoint imported = ModelCheckpoint.Load("model.safetensors", Vocabulary.ReadWordList("vocab.txt"));
        Console.WriteLine(imported.Model.Config.Describe());         // e.g. "2x650 GRU, embedding 400, vocabulary 10000"
        var method = new LstmCompression(CompressionMethod.Dkp, 25)
        {
            Matrices = @"rnn\..*|decoder\.weight",
            MatrixFactors = [new MatrixFactor(@"decoder\.weight", 10)],   // the head compressed 10x, the LSTM layers 25x
        };
        Console.WriteLine(method.Describe());                        // "dkp at 25x, /decoder\.weight/ at 10x"
        CompressionReport start = method.Apply(imported.Model);      // the forms, initialized from the weights
        Console.WriteLine($"whole model: {start.ModelParameterFactor:F1}x fewer parameters");
    }
}
