// ProServ.Billing: a professional-services billing API (projects, time entries, approvals, invoices, ERP postings)
// that carries its own release discipline with ReleaseKit. See README.md.
//
//   dotnet run --project samples/ProServ.Billing -- releasekit check                    # the release gates: exit 0
//   dotnet run --project samples/ProServ.Billing -- releasekit check --manifest release.failing.json   # exit 1
//   dotnet run --project samples/ProServ.Billing                                         # serve the API
using ProServ.Billing;

var app = BillingApp.Create(args);
if (await app.RunReleaseKitCommandAsync(args)) return;

await BillingApp.PrepareDatabaseAsync(app);
await app.RunAsync();
