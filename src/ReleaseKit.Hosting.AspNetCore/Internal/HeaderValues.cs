using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;

namespace ReleaseKit.Hosting.AspNetCore.Internal;

/// <summary>
/// The request headers as the resolver reads them, without copying: a header sent several times reads as its values joined with
/// commas, which names no tenant, so an ambiguous tenant header is rejected rather than one value picked.
/// </summary>
internal sealed class HeaderValues(IHeaderDictionary headers) : IReadOnlyDictionary<string, string?>
{
    public int Count => headers.Count;

    public IEnumerable<string> Keys => headers.Keys;

    public IEnumerable<string?> Values => headers.Values.Select(v => (string?)v.ToString());

    public string? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The request has no header '{key}'.");

    public bool ContainsKey(string key) => headers.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string? value)
    {
        if (headers.TryGetValue(key, out var values) && values.Count > 0)
        {
            value = values.ToString();
            return true;
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() =>
        headers.Select(h => new KeyValuePair<string, string?>(h.Key, h.Value.ToString())).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
