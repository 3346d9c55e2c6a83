using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// One rows x cols recurrent matrix W (an LSTM's W_ih or W_hh, 4H x in) kept as parts and materialized on every forward,
/// so that autograd reaches the parts. The forms and their sizes are bench/pytorch/word_lm.py's, one for one.
/// </summary>
interface IRecurrentForm
{
    int Rows { get; }
    int Columns { get; }

    /// <summary>The trained tensors W is made of.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The parameters live in this phase: the factors plus the entries a mask keeps.</summary>
    long LiveParameters { get; }

    /// <summary>One line, as word_lm.py's describe().</summary>
    string Description { get; }

    /// <summary>Draws the parts so that W has the spread of a dense U(-init, init) matrix.</summary>
    void Reset(double init);

    /// <summary>W [Rows x Columns], differentiable in the parts.</summary>
    Tensor Materialize();
}

/// <summary>W = sum_r kron(A_r, B_r), A_r M1 x N1 and B_r M2 x N2, at the largest rank whose factors fit in the budget.</summary>
sealed class KroneckerSum : IRecurrentForm
{
    readonly Parameter _left, _right;
    readonly (int M1, int N1, int M2, int N2) _shape;

    public KroneckerSum(int rows, int columns, double budget)
    {
        Rows = rows;
        Columns = columns;
        _shape = RecurrentForms.KroneckerShape(rows, columns);
        var (m1, n1, m2, n2) = _shape;
        Rank = (int)Math.Floor(budget / (m1 * n1 + m2 * n2));
        if (Rank < 1)
            throw new ArgumentException($"a {rows}x{columns} matrix: {budget:F0} parameters are too few for one Kronecker product of {m1}x{n1} and {m2}x{n2}");
        _left = new Parameter(empty(Rank, m1, n1));
        _right = new Parameter(empty(Rank, m2, n2));
    }

    public int Rows { get; }
    public int Columns { get; }
    public int Rank { get; }
    public IReadOnlyList<Parameter> Parameters => [_left, _right];
    public long LiveParameters => _left.numel() + _right.numel();
    public string Description => $"kp rank {Rank} of {_shape.M1}x{_shape.N1} (x) {_shape.M2}x{_shape.N2}";

    public void Reset(double init)
    {
        double a = RecurrentForms.ProductInitBound(init, Rank);
        using var _ = no_grad();
        _left.uniform_(-a, a);
        _right.uniform_(-a, a);
    }

    // sum_r kron(A_r, B_r)[a*M2 + c, b*N2 + d] = sum_r A_r[a, b] B_r[c, d]: one rank-r product, then a permutation
    // (word_lm.py's materialization; far faster than summing r Kronecker products).
    public Tensor Materialize()
    {
        var (m1, n1, m2, n2) = _shape;
        return _left.reshape(Rank, m1 * n1).t().matmul(_right.reshape(Rank, m2 * n2))
            .view(m1, n1, m2, n2).permute(0, 2, 1, 3).reshape(m1 * m2, n1 * n2);
    }

    /// <summary>sum_r torch.kron(A_r, B_r), the definition the self-check holds <see cref="Materialize"/> to.</summary>
    public Tensor Reference()
    {
        Tensor sum = zeros(Rows, Columns);
        for (int r = 0; r < Rank; r++) sum = sum + kron(_left[r], _right[r]);
        return sum;
    }
}

/// <summary>W = U @ V at rank floor(budget / (rows + cols)).</summary>
sealed class LowRank : IRecurrentForm
{
    readonly Parameter _u, _v;

    public LowRank(int rows, int columns, double budget)
    {
        Rows = rows;
        Columns = columns;
        Rank = (int)Math.Floor(budget / (rows + columns));
        if (Rank < 1) throw new ArgumentException($"a {rows}x{columns} matrix: {budget:F0} parameters are too few for rank 1");
        _u = new Parameter(empty(rows, Rank));
        _v = new Parameter(empty(Rank, columns));
    }

    public int Rows { get; }
    public int Columns { get; }
    public int Rank { get; }
    public IReadOnlyList<Parameter> Parameters => [_u, _v];
    public long LiveParameters => _u.numel() + _v.numel();
    public string Description => $"lmf rank {Rank}";

    public void Reset(double init)
    {
        double a = RecurrentForms.ProductInitBound(init, Rank);
        using var _ = no_grad();
        _u.uniform_(-a, a);
        _v.uniform_(-a, a);
    }

    public Tensor Materialize() => _u.matmul(_v);
}

/// <summary>W = weight * mask, the mask a fixed 0/1 tensor: all ones (keep null) or keeping round(keep * rows * cols)
/// entries drawn at random.</summary>
sealed class MaskedDense : IRecurrentForm
{
    readonly Parameter _weight;
    readonly string _label;

    public MaskedDense(int rows, int columns, double? keep, Generator generator, string label)
    {
        Rows = rows;
        Columns = columns;
        _label = label;
        _weight = new Parameter(empty(rows, columns));
        long n = (long)rows * columns;
        Tensor mask = ones(n);
        if (keep is { } share)
        {
            using Tensor kept = randperm(n, generator: generator).narrow(0, 0, (long)Math.Round(share * n));
            mask.zero_().index_fill_(0, kept, 1.0f);
        }
        Mask = mask.view(rows, columns);
        LiveParameters = (long)Mask.sum().item<float>();
    }

    public int Rows { get; }
    public int Columns { get; }
    public Tensor Mask { get; }
    public Parameter Weight => _weight;
    public IReadOnlyList<Parameter> Parameters => [_weight];
    public long LiveParameters { get; }
    public string Description => $"{_label} keeping {LiveParameters} of {Mask.numel()}";

    public void Reset(double init)
    {
        using var _ = no_grad();
        _weight.uniform_(-init, init);
    }

    public Tensor Materialize() => _weight * Mask;
}

/// <summary>W = product + sparse: a Kronecker sum or a low-rank product plus a masked dense S.</summary>
sealed class Doped(IRecurrentForm product, MaskedDense sparse) : IRecurrentForm
{
    public IRecurrentForm Product => product;
    public MaskedDense Sparse => sparse;
    public int Rows => product.Rows;
    public int Columns => product.Columns;
    public IReadOnlyList<Parameter> Parameters => [.. product.Parameters, .. sparse.Parameters];
    public long LiveParameters => product.LiveParameters + sparse.LiveParameters;
    public string Description => $"{product.Description} + {sparse.Description}";

    public void Reset(double init)
    {
        product.Reset(init);
        sparse.Reset(init);
    }

    public Tensor Materialize() => product.Materialize() + sparse.Materialize();
}

/// <summary>Builds the forms and holds the rules they share with word_lm.py.</summary>
static class RecurrentForms
{
    /// <summary>The form of one rows x cols matrix for a compressed method: the budget is rows*cols/factor; doped forms
    /// give (1 - share) of it to the product and keep share/factor of the entries in S once annealed.</summary>
    public static IRecurrentForm Create(PeerOptions options, int rows, int columns, Generator generator)
    {
        double budget = (double)rows * columns / options.Factor;
        double share = options.DopingShare;
        bool annealed = options.Phase == "annealed";
        return options.Method switch
        {
            RecurrentMethod.Kp => new KroneckerSum(rows, columns, budget),
            RecurrentMethod.Lmf => new LowRank(rows, columns, budget),
            RecurrentMethod.Prune => new MaskedDense(rows, columns, annealed ? 1.0 / options.Factor : null, generator, "pruned"),
            RecurrentMethod.Dkp => new Doped(new KroneckerSum(rows, columns, (1 - share) * budget),
                new MaskedDense(rows, columns, annealed ? share / options.Factor : null, generator, "S")),
            RecurrentMethod.Dlmf => new Doped(new LowRank(rows, columns, (1 - share) * budget),
                new MaskedDense(rows, columns, annealed ? share / options.Factor : null, generator, "S")),
            _ => throw new ArgumentException($"{options.MethodName} has no compressed form"),
        };
    }

    /// <summary>(M1, N1, M2, N2) with M1*M2 = rows and N1*N2 = cols, M1*N1 closest to M2*N2; ties go to the most nearly
    /// square factors, then to the larger M1, then the larger N1 (medium's 2600 x 650: 52x25 (x) 50x26, Dopant's pick).</summary>
    public static (int M1, int N1, int M2, int N2) KroneckerShape(int rows, int columns)
    {
        (long, long, long, long)? bestKey = null;
        (int, int, int, int) best = default;
        foreach (int m1 in Divisors(rows))
        {
            foreach (int n1 in Divisors(columns))
            {
                int m2 = rows / m1, n2 = columns / n1;
                (long, long, long, long) key = (Math.Abs((long)m1 * n1 - (long)m2 * n2), Math.Abs(m1 - n1) + Math.Abs(m2 - n2), -m1, -n1);
                if (bestKey is null || key.CompareTo(bestKey.Value) < 0) (bestKey, best) = (key, (m1, n1, m2, n2));
            }
        }
        return best;
    }

    /// <summary>The bound a of U(-a, a) factors whose rank-r sum of products has the spread of U(-init, init):
    /// r * (a^2 / 3)^2 = init^2 / 3 (word_lm.py's product_init_bound).</summary>
    public static double ProductInitBound(double init, int rank) => Math.Sqrt(Math.Sqrt(3.0) * init / Math.Sqrt(rank));

    static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(d => n % d == 0);
}
