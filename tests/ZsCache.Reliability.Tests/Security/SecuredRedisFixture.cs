using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.Security;

/// <summary>
/// A redis-server of its own started with <c>--requirepass</c>, an ACL user restricted to one key
/// prefix (<c>--user</c>), and a TLS port whose certificate comes from a test CA generated here.
/// (The shared fixture cannot be used: its readiness probe does not authenticate.)
/// </summary>
public sealed class SecuredRedisFixture : IAsyncLifetime
{
    public const string Password = "Zs-default-pw-7f1c2a9b";
    public const string AclUser = "zsapp";
    public const string AclPassword = "Zs-acl-pw-3d9e41c5";

    /// <summary>The recommended ACL of docs/security.md: the prefix only, and no dangerous commands.</summary>
    public const string StrictAclUser = "zsstrict";

    /// <summary>The only keys the ACL user may touch.</summary>
    public const string AclPrefix = "zs-acl:";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private Process? _process;
    private string? _directory;

    public bool Available { get; private set; }

    public int Port { get; private set; }

    public int TlsPort { get; private set; }

    /// <summary>PEM file of the CA that signed the server's certificate.</summary>
    public string CaPath { get; private set; } = "";

    public string Host => "127.0.0.1";

    public async Task InitializeAsync()
    {
        var executable = RedisServerProcess.FindOnPath("redis-server");
        if (executable is null || string.Equals(Environment.GetEnvironmentVariable("ZSCACHE_TEST_SERVER"), "garnet", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        _directory = Directory.CreateTempSubdirectory("zscache-secured-").FullName;
        var (caPath, certPath, keyPath) = WriteCertificates(_directory);
        CaPath = caPath;
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePorts.Next();
            TlsPort = FreePorts.Next();
            var info = new ProcessStartInfo(executable)
            {
                WorkingDirectory = _directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                "--port", Port.ToString(CultureInfo.InvariantCulture),
                "--tls-port", TlsPort.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", _directory, "--daemonize", "no", "--loglevel", "warning",
                "--requirepass", Password,
                "--user", AclUser, "on", ">" + AclPassword, "~" + AclPrefix + "*", "&*", "+@all",
                "--user", StrictAclUser, "on", ">" + AclPassword, "~" + AclPrefix + "*", "&*", "+@all", "-@dangerous",
                "--tls-cert-file", certPath, "--tls-key-file", keyPath, "--tls-ca-cert-file", caPath, "--tls-auth-clients", "no",
            })
            {
                info.ArgumentList.Add(arg);
            }

            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            if (await WaitUntilReadyAsync())
            {
                Available = true;
                return;
            }

            await KillAsync();
            if (attempt >= 3)
            {
                throw new InvalidOperationException("The secured redis-server did not start.");
            }
        }
    }

    /// <summary>Runs one command as the default user (authenticated), on a fresh connection.</summary>
    public async Task<string?> ExecuteAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await using var connection = await RespConnection.ConnectAsync(Port, timeout.Token);
        await connection.ExecuteAsync(["AUTH", Password], timeout.Token);
        return await connection.ExecuteAsync(args, timeout.Token);
    }

    public void SkipUnlessAvailable() => Skip.IfNot(Available, "Needs redis-server on PATH (a secured server of the test's own).");

    private async Task<bool> WaitUntilReadyAsync()
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < StartTimeout)
        {
            if (_process!.HasExited)
            {
                return false;
            }

            try
            {
                if (await ExecuteAsync("PING") == "PONG")
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or InvalidOperationException or OperationCanceledException)
            {
                // Not listening yet: poll again until the deadline.
            }

            await Task.Delay(20);
        }

        return false;
    }

    /// <summary>A test CA and a server certificate for localhost/127.0.0.1 signed by it, as PEM files.</summary>
    private static (string Ca, string Cert, string Key) WriteCertificates(string directory)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=ZsCache reliability test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(6), RandomNumberGenerator.GetBytes(8));

        var caPath = Path.Combine(directory, "ca.pem");
        var certPath = Path.Combine(directory, "server.pem");
        var keyPath = Path.Combine(directory, "server.key");
        File.WriteAllText(caPath, ca.ExportCertificatePem());
        File.WriteAllText(certPath, server.ExportCertificatePem());
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        return (caPath, certPath, keyPath);
    }

    private async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            try
            {
                process.Kill();
                await process.WaitForExitAsync(new CancellationTokenSource(StartTimeout).Token);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }
    }

    public async Task DisposeAsync()
    {
        await KillAsync();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }
}
