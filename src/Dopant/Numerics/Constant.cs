namespace Dopant.Numerics;

/// <summary>
/// A compile-time integer carried by a type argument. A kernel generic over a struct implementing it is compiled
/// once per value with the value folded in, so code guarded by it (unused accumulator rows) disappears.
/// </summary>
internal interface IConstant
{
    static abstract int Value { get; }
}

#pragma warning disable CS1591 // the names say it all
internal readonly struct C1 : IConstant { public static int Value => 1; }
internal readonly struct C2 : IConstant { public static int Value => 2; }
internal readonly struct C3 : IConstant { public static int Value => 3; }
internal readonly struct C4 : IConstant { public static int Value => 4; }
internal readonly struct C5 : IConstant { public static int Value => 5; }
internal readonly struct C6 : IConstant { public static int Value => 6; }
internal readonly struct C7 : IConstant { public static int Value => 7; }
internal readonly struct C8 : IConstant { public static int Value => 8; }
internal readonly struct C9 : IConstant { public static int Value => 9; }
internal readonly struct C10 : IConstant { public static int Value => 10; }
internal readonly struct C11 : IConstant { public static int Value => 11; }
internal readonly struct C12 : IConstant { public static int Value => 12; }
#pragma warning restore CS1591
