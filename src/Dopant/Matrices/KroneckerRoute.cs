namespace Dopant.Matrices;

/// <summary>How a Kronecker form's training passes multiply.</summary>
internal enum KroneckerRoute
{
    /// <summary>By cost: factored unless they save too little over the materialized W's GEMM.</summary>
    Auto,

    /// <summary>Always through the factors, never forming W.</summary>
    Direct,

    /// <summary>Always through the materialized W.</summary>
    Dense,
}
