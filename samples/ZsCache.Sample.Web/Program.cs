using ZsCache.Sample.Web;
using ZsCache.Sample.Web.Load;

// Two commands in one project:
//   dotnet run --project samples/ZsCache.Sample.Web                  the web app
//   dotnet run --project samples/ZsCache.Sample.Web -- load [opts]   the load generator
if (args is ["load", ..])
{
    return await LoadCommand.RunAsync(args[1..]).ConfigureAwait(false);
}

var app = SampleApp.Build(args);
await app.RunAsync().ConfigureAwait(false);
return 0;
