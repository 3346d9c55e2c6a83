using Dopant.Data;
using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Training;

internal static class StreamingExample
{
    public static void Run()
    {
        ModelCheckpoint checkpoint = ModelCheckpoint.Load("dkp25.compact.safetensors");
        Vocabulary vocabulary = checkpoint.Vocabulary;
        StreamingLanguageModel runtime = StreamingLanguageModel.From(checkpoint.Model, WeightPrecision.Int8);
        var logits = new float[runtime.VocabularySize];
        runtime.Step(vocabulary.EndOfSentenceId, logits);            // start as after a sentence end
        foreach (string word in "the jury said".Split(' '))
            runtime.Step(vocabulary.GetIdOrUnknown(word), logits);    // logits now score the next word
    }
}
