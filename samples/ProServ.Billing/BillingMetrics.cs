using System.Diagnostics.Metrics;
using ReleaseKit.HealthCriteria;

namespace ProServ.Billing;

/// <summary>
/// The app's own System.Diagnostics.Metrics instruments (meter <c>ProServ.Billing</c>). The endpoints record them; the
/// ReleaseKit.HealthCriteria monitor captures them by name and judges the release with them.
/// </summary>
public sealed class BillingMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ProServ.Billing";

    /// <summary>Request duration histogram (seconds).</summary>
    public const string RequestDurationName = "billing.request.duration";

    /// <summary>Invoice export attempts.</summary>
    public const string InvoiceExportsName = "billing.invoice_exports";

    /// <summary>Invoice exports that failed.</summary>
    public const string FailedInvoiceExportsName = "billing.invoice_exports.failed";

    /// <summary>Creates the instruments on a meter from the app's meter factory.</summary>
    public BillingMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        RequestDuration = meter.CreateHistogram<double>(RequestDurationName, "s", "Duration of the billing API's requests.");
        InvoiceExports = meter.CreateCounter<long>(InvoiceExportsName, "{export}", "Invoice export attempts.");
        FailedInvoiceExports = meter.CreateCounter<long>(FailedInvoiceExportsName, "{export}", "Invoice exports that failed.");
    }

    /// <summary>Request duration (s), tagged with the route and the tenant's tier.</summary>
    public Histogram<double> RequestDuration { get; }

    /// <summary>Invoice export attempts, tagged with the tenant's tier.</summary>
    public Counter<long> InvoiceExports { get; }

    /// <summary>Failed invoice exports, tagged with the tenant's tier.</summary>
    public Counter<long> FailedInvoiceExports { get; }

    /// <summary>The health criteria this app is judged by, over these instruments.</summary>
    public static void Configure(ReleaseHealthOptions options, string releaseId, int minimumSampleSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ReleaseId = releaseId;
        options.Capture(RequestDurationName, RequestDurationName, MeterName)
            .Capture(InvoiceExportsName, BusinessIndicators.InvoiceExports.Name, MeterName)
            .Capture(FailedInvoiceExportsName, BusinessIndicators.FailedInvoiceExports.Name, MeterName);
        options.Add(new ThresholdCriterion("invoice-export-failures", BusinessIndicators.FailedInvoiceExports.Name, HealthStatistic.Rate)
        {
            Denominator = BusinessIndicators.InvoiceExports.Name,
            AtMost = 0.02,
            Critical = true,
            MinimumSampleSize = minimumSampleSize,
        });
        options.Add(new ThresholdCriterion("p99-request-duration", RequestDurationName, HealthStatistic.Quantile)
        {
            Quantile = 0.99,
            AtMost = 2.0,
            MinimumSampleSize = minimumSampleSize,
        });
    }
}
