using BenchmarkDotNet.Running;
using Dopant.Bench;

// `sgemm-compare` prints ours next to OpenBLAS in one run, `read-bandwidth` the memory's read speed, `step-matrices` and
// `step-parts` the per-token costs of the streaming kernels and of the rest of an LSTM step, `model-parts` those of a
// trained tagger's or classifier's step part by part, `trial-claims` PostgreSQL's
// trial throughput, `training-passes` the training passes of each compressed form; anything else goes to BenchmarkDotNet
// (e.g. `--filter *Sgemm*`), which lists every suite in this assembly.
if (args.Length > 0 && args[0] == "sgemm-compare")
    return SgemmCompare.Run(args[1..]);
if (args.Length > 0 && args[0] == "step-matrices")
    return StepMatrixTimes.Run(args[1..]);
if (args.Length > 0 && args[0] == "step-parts")
    return StepPartTimes.Run(args[1..]);
if (args.Length > 0 && args[0] == "sparse-kernels")
    return SparseKernelTimes.Run(args[1..]);
if (args.Length > 0 && args[0] == "training-passes")
    return TrainingPassTimes.Run(args[1..]);
if (args.Length > 0 && args[0] == "read-bandwidth")
    return ReadBandwidth.Run(args[1..]);
if (args.Length > 0 && args[0] == "model-parts")
    return ModelPartTimes.Run(args[1..]);
if (args.Length > 0 && args[0] == "trial-claims")
    return TrialClaims.Run(args[1..]);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
