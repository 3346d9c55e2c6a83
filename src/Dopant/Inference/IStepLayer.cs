namespace Dopant.Inference;

/// <summary>One recurrent layer of the streaming runtime: its weights in step forms and its own state.</summary>
internal interface IStepLayer
{
    /// <summary>Input width.</summary>
    int InputSize { get; }

    /// <summary>Hidden size H.</summary>
    int HiddenSize { get; }

    /// <summary>h after the last step.</summary>
    float[] Hidden { get; }

    /// <summary>Bytes of weights one step reads.</summary>
    long WeightBytes { get; }

    /// <summary>Sets the state back to zero.</summary>
    void Reset();

    /// <summary>Advances the state by one input x (<see cref="InputSize"/> values); the new h is <see cref="Hidden"/>.</summary>
    void Step(ReadOnlySpan<float> x);
}
