namespace Dopant.Compression;

/// <summary>One rule of a <see cref="CompressionScheme"/>: the weights it selects and the operator that compresses them.</summary>
/// <param name="Selector">The weights the rule applies to.</param>
/// <param name="Operator">The compression applied to them, together (one global threshold over all of them).</param>
public sealed record SchemeRule(LayerSelector Selector, ICompressionOperator Operator);
