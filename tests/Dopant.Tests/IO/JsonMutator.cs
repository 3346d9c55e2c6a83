using System.Text;

namespace Dopant.Tests.IO;

/// <summary>
/// Mutates JSON text the way a fuzzer would, at the character level (deletions, insertions, truncations) and at the
/// token level (numbers swapped for huge, negative or non-finite ones, strings for numbers and other domain words,
/// values for deep nestings or huge arrays), and describes each mutation so that a failure can be reproduced.
/// </summary>
internal sealed class JsonMutator(IReadOnlyList<string> domainStrings)
{
    private const string Alphabet = "{}[]\":,0123456789-.eE+ \\ntrufalsx$*";

    private static readonly string[] HostileNumbers =
    [
        "0", "-0", "-1", "1", "2", "1.5", "0.5", "-0.5", "1e308", "-1e308", "1e-320", "2147483647", "2147483648", "-2147483649",
        "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e999", "NaN", "Infinity",
        "-Infinity", "\"NaN\"", "\"Infinity\"", "\"7\"", "\"\"", "null", "true", "[]", "{}", "65536", "1000000000",
        "3", "4", "8", "16", "25", "64", "0.25", "0.1", "0.9", "10",
    ];

    private static readonly string[] HostileStrings =
    [
        "\"\"", "\" \"", "\"x\"", "0", "-1", "1e308", "null", "false", "[]", "{}", "\"\\u0000\"", "\"\\ud800\"", "\"\\n\"",
        "\"$level\"", "\"NaN\"", "\"" + new string('x', 5000) + "\"", "\"(a+)+$\"", "\"(a|aa)*b\"", "\"[\"", "\"\\\\\"",
    ];

    /// <summary>One to three stacked mutations of <paramref name="json"/>, with their description.</summary>
    public (string Json, string Description) Mutate(string json, Random random)
    {
        int count = random.Next(4) == 0 ? 2 + random.Next(2) : 1;
        var description = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            (json, string step) = MutateOnce(json, random);
            description.Append(i == 0 ? "" : "; ").Append(step);
        }
        return (json, description.ToString());
    }

    private (string Json, string Description) MutateOnce(string json, Random random)
    {
        List<Token> tokens = Tokenize(json);
        int kind = random.Next(10);
        if (json.Length == 0) kind = 1;
        if (kind >= 4 && tokens.Count == 0) kind = random.Next(4);
        switch (kind)
        {
            case 0:
            {
                int at = random.Next(json.Length), length = Math.Min(1 + random.Next(8), json.Length - at);
                return (json.Remove(at, length), $"deleted {length} chars at {at}");
            }
            case 1:
            {
                int at = random.Next(json.Length + 1);
                char c = Alphabet[random.Next(Alphabet.Length)];
                return (json.Insert(at, c.ToString()), $"inserted '{c}' at {at}");
            }
            case 2:
            {
                int at = random.Next(json.Length);
                char c = Alphabet[random.Next(Alphabet.Length)];
                return (json.Remove(at, 1).Insert(at, c.ToString()), $"replaced char {at} by '{c}'");
            }
            case 3:
            {
                int length = random.Next(json.Length);
                return (json[..length], $"truncated to {length} chars");
            }
            case 4 or 5:
            {
                Token[] numbers = [.. tokens.Where(t => t.Kind == TokenKind.Number)];
                Token token = numbers.Length > 0 ? numbers[random.Next(numbers.Length)] : tokens[random.Next(tokens.Count)];
                string value = HostileNumbers[random.Next(HostileNumbers.Length)];
                return (Replace(json, token, value), $"{token.Kind} {Show(json, token)} at {token.Start} -> {value}");
            }
            case 6 or 7:
            {
                Token[] strings = [.. tokens.Where(t => t.Kind == TokenKind.String)];
                Token token = strings.Length > 0 ? strings[random.Next(strings.Length)] : tokens[random.Next(tokens.Count)];
                string value = random.Next(2) == 0 && domainStrings.Count > 0
                    ? Quote(domainStrings[random.Next(domainStrings.Count)])
                    : HostileStrings[random.Next(HostileStrings.Length)];
                return (Replace(json, token, value), $"{token.Kind} {Show(json, token)} at {token.Start} -> {Shorten(value)}");
            }
            case 8:
            {
                Token token = tokens[random.Next(tokens.Count)];
                int depth = random.Next(3) switch { 0 => 10 + random.Next(60), 1 => 1000, _ => 20_000 };
                bool arrays = random.Next(2) == 0;
                string open = arrays ? "[" : "{\"a\":", close = arrays ? "]" : "}";
                string value = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
                return (Replace(json, token, value), $"{token.Kind} {Show(json, token)} at {token.Start} -> {depth} nested {(arrays ? "arrays" : "objects")}");
            }
            default:
            {
                Token token = tokens[random.Next(tokens.Count)];
                int length = random.Next(2) == 0 ? 1 + random.Next(50) : 20_000;
                string element = random.Next(2) == 0 ? "1" : Quote(domainStrings.Count > 0 ? domainStrings[random.Next(domainStrings.Count)] : "x");
                string value = "[" + string.Join(",", Enumerable.Repeat(element, length)) + "]";
                return (Replace(json, token, value), $"{token.Kind} {Show(json, token)} at {token.Start} -> array of {length} x {Shorten(element)}");
            }
        }
    }

    private static string Replace(string json, Token token, string value) => json.Remove(token.Start, token.Length).Insert(token.Start, value);

    private static string Show(string json, Token token) => Shorten(json.Substring(token.Start, token.Length));

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";

    /// <summary>A JSON string literal holding <paramref name="text"/>.</summary>
    public static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private enum TokenKind { String, Number, Literal }

    private readonly record struct Token(TokenKind Kind, int Start, int Length);

    // A lenient scan: strings (with escapes), numbers and literals, wherever they occur.
    private static List<Token> Tokenize(string json)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < json.Length)
        {
            char c = json[i];
            if (c == '"')
            {
                int end = i + 1;
                while (end < json.Length && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
                end = Math.Min(end + 1, json.Length);
                tokens.Add(new Token(TokenKind.String, i, end - i));
                i = end;
            }
            else if (c == '-' || char.IsAsciiDigit(c))
            {
                int end = i + 1;
                while (end < json.Length && (char.IsAsciiDigit(json[end]) || json[end] is '.' or 'e' or 'E' or '+' or '-')) end++;
                tokens.Add(new Token(TokenKind.Number, i, end - i));
                i = end;
            }
            else if (char.IsAsciiLetter(c))
            {
                int end = i + 1;
                while (end < json.Length && char.IsAsciiLetter(json[end])) end++;
                tokens.Add(new Token(TokenKind.Literal, i, end - i));
                i = end;
            }
            else
            {
                i++;
            }
        }
        return tokens;
    }
}
