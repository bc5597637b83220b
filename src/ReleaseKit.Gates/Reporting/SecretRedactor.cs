using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace ReleaseKit.Gates.Reporting;

/// <summary>
/// Masks values that look like credentials before any report is written: key=value pairs whose key names a
/// password, secret, token or key (connection strings, query strings, JSON, <c>key: value</c> headers),
/// <c>Bearer</c> tokens, the password in URL user info, JWTs, AWS access key ids, GitHub and Slack tokens and
/// PEM private keys. Only the secret part is replaced with <see cref="Mask"/>; the key, the user name and the
/// rest of the text stay readable.
/// </summary>
/// <remarks>
/// One precompiled (source-generated) pattern scans each value once; a value with nothing to mask is
/// returned as the same instance, without allocating. Versions, digests (<c>sha256:…</c>) and commit hashes
/// match none of the patterns.
/// </remarks>
internal static partial class SecretRedactor
{
    /// <summary>What a masked secret is replaced with.</summary>
    public const string Mask = "***";

    // Keys whose value is a secret. A key matches when an identifier ends with one of these
    // (db_password, AWS_SECRET_ACCESS_KEY, accessToken, x-api-key), case-insensitively.
    private const string SecretKey =
        "(?:password|passwd|pwd|secret|token|apikey|api_key|api-key|access_key|accesskey|client_secret|sharedaccesskey|sharedaccesssignature|accountkey|sig)";

    // Every alternative captures the secret part as group "v"; the evaluator masks only that group.
    // The alternatives are tried left to right at each position, and the leftmost match wins, so
    // "Password=eyJ..." is masked as a key=value pair and "https://u:p@h/?token=x" masks both.
    private const string Pattern =
        // PEM private key blocks.
        @"(?<v>-----BEGIN[A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z ]*PRIVATE KEY-----|\z))" +
        // URL user info: scheme://user:password@host (the password may itself contain '@').
        @"|(?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*://[^\s:/@?#]*:(?<v>[^\s/?#]+)@" +
        // Authorization headers: the credential after an optional scheme.
        @"|(?<![a-z0-9])authorization[""']?\s*[:=]\s*(?:(?:basic|bearer|token|digest|negotiate)\s+)?(?<v>[^\s;,""']+)" +
        // Bearer tokens in free text.
        @"|(?<![a-z0-9])bearer\s+(?<v>[a-z0-9\-._~+/]{8,}=*)" +
        // key=value in a query string: the value ends at '&', '#' or whitespace.
        @"|(?<=[?&])[a-z0-9_.\-]*?" + SecretKey + @"=(?<v>[^&#\s]+)" +
        // "key": "value" (JSON).
        @"|(?<![a-z0-9])[a-z0-9_.\-]*?" + SecretKey + @"[""']\s*:\s*""(?<v>(?:[^""\\]|\\.)+)""" +
        // key=value (connection strings, environment, logs): quoted, {braced} or up to ';' or the line's end.
        @"|(?<![a-z0-9])[a-z0-9_.\-]*?" + SecretKey + @"\s*=\s*(?:""(?<v>(?:[^""]|"""")+)""|'(?<v>(?:[^']|'')+)'|\{(?<v>[^}]+)\}|(?<v>[^;\r\n]+))" +
        // key: value (YAML, HTTP headers): the next word.
        @"|(?<![a-z0-9])[a-z0-9_.\-]*?" + SecretKey + @":[ \t]+(?<v>[^\s;,]+)" +
        // JWT: three base64url segments, the first a JSON header ('{"' is 'eyJ').
        @"|(?<![a-z0-9_\-])(?<v>(?-i:eyJ)[a-z0-9_\-]{4,}\.[a-z0-9_\-]{4,}\.[a-z0-9_\-]*)" +
        // AWS access key ids.
        @"|(?<![a-z0-9])(?<v>(?-i:(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}))(?![a-z0-9])" +
        // GitHub tokens (classic and fine-grained) and Slack tokens.
        @"|(?<![a-z0-9_])(?<v>(?-i:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}))";

    private static readonly MatchEvaluator MaskEvaluator = MaskSecret;

    /// <summary>Masks the credentials in <paramref name="value"/>.</summary>
    /// <param name="value">The text; <see langword="null"/> stays <see langword="null"/>.</param>
    /// <returns>The text with every credential's secret part replaced by <see cref="Mask"/>; the same instance when nothing matched.</returns>
    [return: NotNullIfNotNull(nameof(value))]
    public static string? Redact(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value;
        }

        try
        {
            return SecretPattern().IsMatch(value) ? SecretPattern().Replace(value, MaskEvaluator) : value;
        }
        catch (RegexMatchTimeoutException)
        {
            // Fail closed: a value too pathological to scan in time is not printed at all.
            return Mask;
        }
    }

    private static string MaskSecret(Match match)
    {
        var secret = match.Groups["v"];
        if (!secret.Success || secret.Length == 0)
        {
            return Mask;
        }

        var text = match.ValueSpan;
        var start = secret.Index - match.Index;
        return string.Concat(text[..start], Mask, text[(start + secret.Length)..]);
    }

    [GeneratedRegex(Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecretPattern();
}
