using static TorchSharp.torch;

/// <summary>
/// --self-check, after word_lm.py's: every form on a tiny 2-layer model (V 50, H 10, factor 4, share 0.25) against its
/// definition and budget (kp against a sum of torch.kron, lmf's rank rule, the masks' counts and zeros), then one
/// window's loss and every gradient by the native kernel (libtorch's LSTM on the materialized W, dL/dW relayed into the
/// parts) against the loop kernel (autograd straight through W), for dense and each form; no gradient may pass a
/// masked-out entry. Prints one line per form and exits 0, or 1 at the first failure.
/// </summary>
static class SelfCheck
{
    const int Vocabulary = 50, Hidden = 10, Layers = 2;
    const double Factor = 4, Share = 0.25, Init = 0.1;

    public static int Run()
    {
        try
        {
            manual_seed(0);
            var cases = new List<PeerOptions> { Tiny(RecurrentMethod.Dense, annealed: false) };
            foreach (var method in new[] { RecurrentMethod.Kp, RecurrentMethod.Dkp, RecurrentMethod.Lmf, RecurrentMethod.Dlmf, RecurrentMethod.Prune })
            {
                cases.Add(Tiny(method, annealed: false));
                if (Tiny(method, annealed: true).Phase == "annealed") cases.Add(Tiny(method, annealed: true));
            }
            foreach (var options in cases) CheckCase(options);
            Console.WriteLine($"self-check passed (libtorch {__version__}): every form's parameter count and materialization; "
                + "the native kernel's loss and gradients equal the loop kernel's for dense and every form");
            return 0;
        }
        catch (SelfCheckFailure e)
        {
            Console.Error.WriteLine($"self-check failed: {e.Message}");
            return 1;
        }
    }

    static PeerOptions Tiny(RecurrentMethod method, bool annealed) => new()
    {
        Hidden = Hidden, Layers = Layers, Dropout = 0, Init = Init, Method = method, Factor = Factor,
        DopingShare = Share, Annealed = annealed, Seed = 1,
    };

    static void CheckCase(PeerOptions options)
    {
        string name = $"{options.MethodName} {options.Phase}";
        var forms = ThroughputRun.CreateForms(options);
        var model = new WordLanguageModel(Vocabulary, options, forms);
        foreach (var form in forms ?? [])
        {
            using var scope = NewDisposeScope();
            CheckForm(name, form, options);
        }

        using (NewDisposeScope())
        {
            Tensor inputs = randint(0, Vocabulary, [6, 4], dtype: int64), targets = randint(0, Vocabulary, [6, 4], dtype: int64);
            var state = (H: randn(Layers, 4, Hidden) * 0.1, C: randn(Layers, 4, Hidden) * 0.1);
            var (nativeLoss, nativeGrads) = LossAndGradients(model, inputs, targets, state, LstmKernel.Native);
            var (loopLoss, loopGrads) = LossAndGradients(model, inputs, targets, state, LstmKernel.Loop);
            Check(Math.Abs(nativeLoss - loopLoss) <= 1e-5 * Math.Abs(loopLoss), $"{name}: loss {nativeLoss} (native) != {loopLoss} (loop)");
            for (int i = 0; i < nativeGrads.Length; i++)
            {
                Tensor native = nativeGrads[i], loop = loopGrads[i];
                Check(isfinite(native).all().item<bool>() && native.abs().sum().item<float>() > 0, $"{name}: no gradient for parameter {i}");
                Check(native.allclose(loop, rtol: 1e-3, atol: 1e-6),
                    $"{name}: parameter {i}'s gradient differs between the kernels by {(native - loop).abs().max().item<float>():g}");
            }
            foreach (var form in forms ?? [])
            {
                var sparse = form as MaskedDense ?? (form as Doped)?.Sparse;
                if (sparse is null) continue;
                int index = model.TrainedParameters.ToList().FindIndex(p => ReferenceEquals(p, sparse.Weight));
                Check(index >= 0 && nativeGrads[index][sparse.Mask == 0].abs().sum().item<float>() == 0, $"{name}: a gradient through a masked-out entry");
            }
        }
        Console.WriteLine($"{name,-15} {model.Rnn.RecurrentParameters,6} of {model.Rnn.RecurrentDenseParameters} recurrent parameters"
            + (model.Rnn.Descriptions is { } lines ? ": " + string.Join("; ", lines) : ""));
    }

    static void CheckForm(string name, IRecurrentForm form, PeerOptions options)
    {
        int rows = form.Rows, columns = form.Columns;
        double budget = (double)rows * columns / options.Factor;
        Tensor w = form.Materialize().detach();
        Check(w.shape.SequenceEqual(new long[] { rows, columns }), $"{name}: W is {string.Join("x", w.shape)}, not {rows}x{columns}");
        var product = form is Doped doped ? doped.Product : form;
        double productBudget = form is Doped ? (1 - Share) * budget : budget;
        if (product is KroneckerSum kron)
        {
            var (m1, n1, m2, n2) = RecurrentForms.KroneckerShape(rows, columns);
            int perRank = m1 * n1 + m2 * n2;
            Check(m1 * m2 == rows && n1 * n2 == columns, $"{name}: Kronecker shape {m1}x{n1} (x) {m2}x{n2}");
            Check(kron.Rank * perRank <= productBudget && productBudget < (kron.Rank + 1) * perRank, $"{name}: kp rank {kron.Rank} for a budget of {productBudget:g}");
            Check(kron.LiveParameters == kron.Rank * perRank, $"{name}: kp parameter count");
            Check(kron.Materialize().detach().allclose(kron.Reference().detach(), atol: 1e-6), $"{name}: kp != sum of torch.kron");
        }
        if (product is LowRank lowRank)
        {
            double kept = form is Doped ? 1 - Share : 1.0;
            Check(lowRank.Rank == (int)Math.Floor(kept * rows * columns / (options.Factor * (rows + columns))), $"{name}: lmf rank {lowRank.Rank}");
            Check(lowRank.LiveParameters == (long)lowRank.Rank * (rows + columns), $"{name}: lmf parameter count");
        }
        var sparse = form as MaskedDense ?? (form as Doped)?.Sparse;
        if (sparse is not null)
        {
            double keep = options.Phase == "annealed" ? (form is Doped ? Share / options.Factor : 1 / options.Factor) : 1.0;
            long n = (long)rows * columns;
            Check(sparse.LiveParameters == (long)Math.Round(keep * n), $"{name}: the mask keeps {sparse.LiveParameters}, not {Math.Round(keep * n)}");
            Check(sparse.Materialize().detach()[sparse.Mask == 0].abs().sum().item<float>() == 0, $"{name}: a masked-out entry reaches W");
        }
        if (options.Phase == "annealed" || options.Method is RecurrentMethod.Kp or RecurrentMethod.Lmf)
            Check(form.LiveParameters <= budget + 1, $"{name}: {form.LiveParameters} parameters > budget {budget:g}");
    }

    /// <summary>The loss of one window from <paramref name="state"/> (training mode; the tiny model has no dropout) and a copy of every trained parameter's
    /// gradient of it, in <see cref="WordLanguageModel.TrainedParameters"/> order; parameters are left as they were.</summary>
    static (double Loss, Tensor[] Gradients) LossAndGradients(WordLanguageModel model, Tensor inputs, Tensor targets,
        (Tensor H, Tensor C) state, LstmKernel kernel)
    {
        model.ClearGradients();
        var (loss, _, _) = model.Loss(inputs, targets, state, kernel, training: true);
        model.Rnn.Backward(loss * inputs.shape[0]);
        Tensor[] gradients = [.. model.TrainedParameters.Select(p => p.grad?.clone() ?? zeros_like(p))];
        return (loss.item<float>(), gradients);
    }

    static void Check(bool ok, string what)
    {
        if (!ok) throw new SelfCheckFailure(what);
    }

    sealed class SelfCheckFailure(string message) : Exception(message);
}
