using Dopant.Data;
using Dopant.Training;

internal static class TaggerExample
{
    public static void Run()
    {
        LabeledCorpus corpus = LabeledCorpus.Load("pos", LabelingTask.Tagging);   // train.txt, valid.txt, test.txt
        var trainer = new LabelerTrainer(LabelerOptions.FromPreset("tagger") with { Epochs = 4 }, corpus);
        (LabelingScore valid, LabelingScore test) = trainer.Run("tagger.safetensors");
        Console.WriteLine($"valid {valid.Accuracy:P2}, test {test.Accuracy:P2}, unknown words {test.UnknownWordAccuracy:P2}");
    }
}
