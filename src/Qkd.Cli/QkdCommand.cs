using System.CommandLine;
using Qkd.Cli.Commands;

namespace Qkd.Cli;

/// <summary>The `qkd` command tree.</summary>
public static class QkdCommand
{
    public static RootCommand CreateRoot() => new("QkdDriver: run and operate a quantum key distribution link.")
    {
        RunCommand.Create(),
        DrillCommand.Create(),
        CoexistenceCommand.Create(),
        RecordCommand.Create(),
        DevicesCommand.Create(),
        NodeCommands.Create("alice"),
        NodeCommands.Create("bob"),
        KeysCommand.Create(),
        VehicleCommand.Create(),
        NodeInitCommand.Create(),
        NetworkCommand.Create(),
        AuditCommand.Create(),
        MonitorCommand.Create(),
        EmulateCommand.Create(),
        new System.CommandLine.Command("calibrate", "Device calibrations against real devices or the emulated bench.")
        {
            CalibrateDelaysCommand.Create(),
            CalibrateDetectorCommand.Create(),
            CalibrateSweepCommands.Gate(),
            CalibrateSweepCommands.Alignment(),
        },
        TimeCorrelationCommands.Histogram(),
        TimeCorrelationCommands.Correlate(),
    };
}
