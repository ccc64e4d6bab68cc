using System.Net;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Hardware.Modulator;
using Qkd.Hardware.TimeTagger;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Devices;

/// <summary>
/// The two-process setup's emulated fibre, with both ends in one test process: light sent by Alice's modulator down the
/// loopback socket gives Bob's tagger exactly the tags the one-process rig gives for the same seed.
/// </summary>
public class EmulatedFibreTests
{
    private static readonly LinkProfile Profile = LinkProfile.Default.WithDistance(25);
    private static readonly LinkSettings Settings = LinkSettings.Default;
    private const ulong Seed = 21;
    private const long Pulses = 20_000_000;

    private static void Drive(ILaserModulator modulator, Core.Symbols.ISymbolSource symbols)
    {
        Settings.ConfigureModulator(modulator);
        modulator.StartEmission(symbols, 0, Pulses);
        Task.Run(async () =>
        {
            await modulator.StreamingCompletion;
            modulator.StopEmission();
        });
    }

    private static List<TimeTag> ReadAll(ITimeTagger tagger)
    {
        var tags = new List<TimeTag>();
        var buffer = new TimeTag[4096];
        int n;
        while ((n = tagger.Read(buffer, TestContext.Current.CancellationToken)) > 0) tags.AddRange(buffer.AsSpan(0, n).ToArray());
        return tags;
    }

    [Fact(Timeout = 120_000)]
    public void Light_down_the_fibre_gives_the_tags_of_the_one_process_rig()
    {
        var symbols = EmulatedSetup.AliceSymbols(Settings, Seed);
        var taggerOptions = EmulatedSetup.TaggerOptionsFor(Settings, Pulses);

        List<TimeTag> viaFibre;
        using (var receiver = EmulatedReceiver.Create(Profile, taggerOptions, Seed, new IPEndPoint(IPAddress.Loopback, 0)))
        using (var transmitter = EmulatedTransmitter.Create(receiver.Fibre.EndPoint))
        {
            receiver.ConnectAndConfigure(Profile, taggerOptions.SyncChannel);
            receiver.Tagger.StartStream();
            transmitter.Modulator.Connect();
            Drive(transmitter.Modulator, symbols);
            viaFibre = ReadAll(receiver.Tagger);
            Assert.Null(receiver.Fibre.Fault);
            Assert.Null(transmitter.Fibre.Fault);
            Assert.Equal(Pulses, receiver.Fibre.PulsesReceived);
        }

        List<TimeTag> inOneProcess;
        using (var rig = LinkRig.CreateEmulated(Profile, taggerOptions with { EndPulse = long.MaxValue }, Seed))
        {
            rig.Connect();
            rig.Configure(Profile, Settings, taggerOptions.SyncChannel);
            rig.Tagger.StartStream();
            Drive(rig.Modulator, symbols);
            inOneProcess = ReadAll(rig.Tagger);
        }

        Assert.True(viaFibre.Count > 100_000);
        Assert.Equal(inOneProcess, viaFibre);
    }
}
