using Dopant.Inference;
using Dopant.Matrices;
using Dopant.Models;
using Dopant.Training;

namespace Dopant.Bench;

/// <summary>
/// `model-parts --model FILE [--reps 20000]`: µs per token of each part of a unidirectional tagger's or classifier's
/// streaming step (each layer's matrices, its bias copy and cell update, the embedding row, the head), one thread,
/// so that a compressed model's fixed costs show beside its products.
/// </summary>
internal static class ModelPartTimes
{
    public static int Run(string[] args)
    {
        string model = args[Array.IndexOf(args, "--model") + 1];
        int reps = Array.IndexOf(args, "--reps") is >= 0 and var r ? int.Parse(args[r + 1]) : 20000;
        SentenceLabeler<float> labeler = LabelerCheckpoint.Load(model).Model;
        var random = new Random(5);
        double total = 0;
        foreach ((SentenceLayer<float> layer, int l) in labeler.Layers.Select((x, i) => (x, i)))
        {
            var lstm = (LstmLayer<float>)layer.Forward;
            foreach ((string name, IWeightMatrix<float> form) in new[] { ("W_ih", lstm.InputWeights), ("W_hh", lstm.RecurrentWeights) })
            {
                IStepMatrix step = StepMatrices.From(form);
                float[] x = [.. Enumerable.Range(0, step.Columns).Select(_ => (float)random.NextDouble() - 0.5f)];
                float[] y = new float[step.Rows];
                double t = StepPartTimes.Median(reps, () => step.MultiplyAdd(x, y));
                total += t;
                Console.WriteLine($"layer {l} {name} {step.GetType().Name,-24} {WeightForms.Describe(form),-30} {step.Rows}x{step.Columns} {t,8:F3} µs");
                if (step is SumStepMatrix sum)
                    foreach (IStepMatrix part in sum.Terms)
                    {
                        float[] yp = new float[part.Rows];
                        Console.WriteLine($"    {part.GetType().Name,-24} {part.WeightBytes,8} B {StepPartTimes.Median(reps, () => part.MultiplyAdd(x, yp)),8:F3} µs");
                    }
            }
            var stepLayer = new LstmStepLayer(lstm, WeightPrecision.Float32);
            float[] input = [.. Enumerable.Range(0, stepLayer.InputSize).Select(_ => (float)random.NextDouble() - 0.5f)];
            double whole = StepPartTimes.Median(reps, () => stepLayer.Step(input));
            Console.WriteLine($"layer {l} whole step {whole,8:F3} µs");
        }
        IStepMatrix head = StepMatrices.From(labeler.Decoder.Weight);
        float[] h = new float[head.Columns], logits = new float[head.Rows];
        double headTime = StepPartTimes.Median(reps, () => head.MultiplyAdd(h, logits));
        Console.WriteLine($"head {head.GetType().Name} {head.Rows}x{head.Columns} {headTime,8:F3} µs; products in all {total + headTime:F3} µs");
        StreamingLabeler stream = StreamingLabeler.From(labeler);
        int next = 0;
        Console.WriteLine($"whole Advance {StepPartTimes.Median(reps, () => { if ((++next & 63) == 0) stream.Reset(); stream.Advance(next % stream.VocabularySize); }),8:F3} µs");
        return 0;
    }
}
