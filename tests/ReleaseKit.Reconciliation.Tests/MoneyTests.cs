using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace ReleaseKit.Reconciliation.Tests;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("EURO")]
    [InlineData("eur")]
    [InlineData("XXY")]
    [InlineData("")]
    public void An_unknown_currency_is_refused_with_its_code_in_the_message(string currency)
    {
        var error = Assert.Throws<ArgumentException>(() => new Money(10m, currency));
        Assert.Contains($"'{currency}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ISO 4217", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_amount_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Money(-0.01m, "EUR"));
        Assert.Contains("negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_amount_above_the_maximum_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Money(Money.MaxAmount + 1, "USD"));
        Assert.Contains("maximum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.5, "JPY", 0)]
    [InlineData(1.005, "EUR", 2)]
    [InlineData(1.0005, "KWD", 3)]
    public void More_decimals_than_the_currency_has_are_refused(double amount, string currency, int allowed)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Money((decimal)amount, currency));
        Assert.Contains($"at most {allowed}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trailing_zeros_do_not_count_as_decimals_and_equal_amounts_are_equal()
    {
        Assert.Equal(new Money(1.50m, "EUR"), new Money(1.5000m, "EUR"));
        Assert.Equal(100m, new Money(100.000m, "JPY").Amount);
    }

    [Fact]
    public void Keys_with_characters_outside_the_safe_set_are_refused_with_where()
    {
        var error = Assert.Throws<ArgumentException>(() => new PostingRequest("acme", PostingKind.InvoiceExport, "INV 1", new Money(1, "EUR"), "{}", "1.0", Harness.Start));
        Assert.Contains("business key 'INV 1'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new PostingKind("über"));
    }

    [Property(MaxTest = 200)]
    public bool Every_amount_with_at_most_two_decimals_in_euro_is_accepted_exactly(NonNegativeInt units, byte cents)
    {
        var amount = units.Get + ((cents % 100) / 100m);
        return new Money(amount, "EUR").Amount == amount;
    }
}
