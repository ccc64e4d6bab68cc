using Qkd.Node.Devices;
using Qkd.Node.Link;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Acquisition;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Emulation.Hosting;
using Qkd.Distillation.ErrorCorrection;
using Qkd.Core.Channel;
using Qkd.Core.Diagnostics;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;
using Qkd.Kme.Pool;
using Qkd.Protocol;
using Qkd.ClassicalChannel;

namespace Qkd.Lab.Run;

/// <summary>
/// Runs both ends of a link in one process. For a passive receiver the link runs through the device drivers: Alice's
/// symbols stream to the laser modulator as SymbolData frames, Bob's tags come from the time tagger as TagData frames,
/// which the driver's reader thread decodes into the one ring between the tagger and clock recovery; the acquisition
/// loop reads that ring into clock recovery and the decoder. The devices are emulated firmware (in process or behind
/// real pseudo-terminals) unless the caller hands in a <see cref="LinkRig"/> of its own (the HIL suite: hardware, or
/// emulated devices it injects faults into). The two distillers talk over an in-memory classical channel; the
/// distillation objects are exactly those a two-node deployment uses.
/// </summary>
/// <param name="rig">Devices to run on, connected or not; owned by the caller. Null: emulated devices per the options.</param>
public sealed class EmulatedLinkRunner(EmulatedRunOptions options, ILogger? logger = null, LinkRig? rig = null)
{
    private const int ClickBatch = 1 << 16;
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The link monitor of the last run (its observations and alarms); null before a run.</summary>
    public RunMonitor? Monitor { get; private set; }

    public async Task<LinkReport> RunAsync(IProgress<LinkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var started = DateTimeOffset.UtcNow;
        var wall = Stopwatch.StartNew();
        var profile = options.Profile;
        var settings = options.Settings;
        ulong seed = options.EmulatorSeed;

        // Independent named streams: adding a consumer of randomness never shifts another's. The choices an
        // eavesdropper must not predict come from the OS CSPRNG unless the run is seeded.
        using var choices = ChoiceSources.For(settings, options.Seed);
        if (choices.IsSeeded) _logger.LogWarning("Seeded run (seed {Seed}): {Warning}", options.Seed, ChoiceSources.SeededWarning);
        var symbols = choices.Symbols;
        var link = EmulatedSetup.Link(profile, settings, symbols, seed);
        var distillation = settings.Distillation() with { ConcurrentStages = options.ConcurrentStages };

        // A run never writes into another run's key files, even when two runs start in the same second.
        string runName = $"run-{started:yyyyMMdd-HHmmss}-" + (options.Seed is ulong choiceSeed ? $"seed{choiceSeed}" : "secure");
        string runDirectory = Path.Combine(options.KeysDirectory, runName);
        for (int attempt = 2; Directory.Exists(runDirectory); attempt++)
            runDirectory = Path.Combine(options.KeysDirectory, $"{runName}-{attempt}");
        var aliceStore = new FileKeySink(Path.Combine(runDirectory, "alice"));
        var bobStore = new FileKeySink(Path.Combine(runDirectory, "bob"));
        var (aliceEnd, bobEnd) = InMemoryClassicalChannel.CreatePair();
        // The network between the ends, when the run gives it one: each message arrives half the round trip after it was sent.
        using var delayed = options.ChannelRoundTrip > TimeSpan.Zero ? new DelayedChannelPair(aliceEnd, bobEnd, options.ChannelRoundTrip) : null;
        IClassicalChannel aliceChannel = delayed?.Alice ?? (IClassicalChannel)aliceEnd, bobChannel = delayed?.Bob ?? (IClassicalChannel)bobEnd;
        // Time per pipeline stage, added per batch and per block step (never per event).
        var stages = new StageTimes();
        var alice = new AliceDistiller(aliceChannel, symbols, distillation, aliceStore, choices.Distiller, choices.ToeplitzSeeds) { Stages = stages };
        var bob = new BobDistiller(bobChannel, distillation, bobStore) { Stages = stages };
        bob.BlockCompleted += block => _logger.LogInformation(
            "Block {Block}: {Outcome}, {Sifted} sifted bits, QBER {Qber:P2}, {Secret} secret bits{Reason}",
            block.BlockId, block.Outcome, block.SiftedZ, double.IsNaN(block.QberZ) ? block.QberX : block.QberZ, block.SecretBits,
            block.Reason is null ? "" : $" ({block.Reason})");

        long endPulse = options.Pulses;
        // The session opens as between two nodes: Alice announces the emission, Bob checks it and answers (the rig
        // below starts his tagger before her modulator, so nothing is emitted before he listens).
        var announced = alice.AnnounceEmissionAsync(EmissionAgreement.Announce(settings, endPulse), cancellationToken);
        var emission = await bob.ReceiveEmissionAnnouncementAsync(cancellationToken).ConfigureAwait(false);
        if (EmissionAgreement.Mismatch(settings, emission) is string mismatch)
        {
            await bob.RefuseEmissionAsync(mismatch, cancellationToken).ConfigureAwait(false);
            try { await announced.ConfigureAwait(false); }
            catch (Distillation.Protocol.ProtocolException) { /* Alice learns the refusal; the mismatch is the error to report */ }
            throw new InvalidOperationException(mismatch);
        }
        await bob.ConfirmReceiverReadyAsync(emission, EmissionAgreement.Window(emission), cancellationToken).ConfigureAwait(false);
        await announced.ConfigureAwait(false);

        using var aliceCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<string> aliceTask = Task.Run(() => alice.RunAsync(aliceCancel.Token), aliceCancel.Token);
        // Alice's side of the channel closes when her end stops, as a node's connection closes with its process: should
        // she fail mid-session, Bob's wait for her next reply ends with the closed channel instead of lasting forever.
        _ = aliceTask.ContinueWith(_ => aliceChannel.Complete(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        var detections = new Detection[ClickBatch];
        long detectionCount = 0;
        string closing;
        IReadOnlyList<DeviceReport>? deviceReports = null;
        IReadOnlyList<string>? deviceLog = null;
        bool finished = false;
        EmulatedLink? physicalLink = null;
        // Every receiver takes the real path: emulated tagger -> TagData frames -> the driver's reader thread -> the
        // one ring -> acquisition loop (on this thread) -> clock recovery -> decoder; a replay: file -> acquisition
        // thread -> the one ring -> clock recovery -> decoder. An active receiver's detector is fed Bob's own basis
        // choices through its driver, and the decoder reads them back at the basis marker. A recording does not hold
        // Bob's bases, so an active receiver cannot be replayed.
        bool active = profile.ReceiverLayout == ReceiverLayout.ActiveTwoDetector;
        bool viaTimeTags = !(active && options.ReplayFile is not null);
        var bases = active ? choices.ReceiverBases(profile.BobProbabilityZ, endPulse + settings.PulsesPerSync) : null;
        TimeTagFrontEnd? frontEnd = null;
        DetectionDecoder decoder;
        var clicks = new DetectorClick[ClickBatch];
        LinkRig? ownRig = null;
        LinkRig? devices = null;
        DeviceSupervisor? supervisor = null;
        Task? stopEmission = null;
        if (viaTimeTags)
        {
            var taggerOptions = EmulatedSetup.TaggerOptionsFor(settings, endPulse, profile.ReceiverLayout);
            ITimeTagSource source;
            if (options.ReplayFile is string file)
                source = TimeTagFile.Open(file);
            else
            {
                devices = rig ?? (ownRig = LinkRig.CreateEmulated(profile, taggerOptions with { EndPulse = long.MaxValue }, seed, options.DeviceTransport));
                (source, stopEmission) = StartDevices(devices, profile, settings, taggerOptions, symbols, endPulse, bases);
                supervisor = new DeviceSupervisor(devices, options.DeviceSupervisionInterval, _logger);
            }
            var clockOptions = options.Receiver?.ClockRecovery(settings) ?? EmulatedSetup.ClockRecoveryOptionsFor(profile, settings, taggerOptions);
            frontEnd = new TimeTagFrontEnd(source, clockOptions, profile.ReceiverLayout,
                choices.Squashing, bases: bases);
            decoder = frontEnd.Decoder;
            frontEnd.Stages = stages;
            frontEnd.Start();
        }
        else if (options.ReplayFile is not null)
            throw new ArgumentException($"Replay needs a passive receiver: the recording's profile has {profile.ReceiverLayout}, whose basis per pulse is not in the tag stream.");
        else
            decoder = new DetectionDecoder(profile.ReceiverLayout, choices.Squashing);

        // The link monitor watches every block (on the distiller's thread: with concurrent stages, blocks after the
        // acquisition; the receiver's counts come from clock recovery's history at the block's last pulse).
        var monitor = new RunMonitor(options.Monitor, settings, profile.BobProbabilityZ);
        Monitor = monitor;
        bob.BlockCompleted += block => monitor.Observe(block, frontEnd, bob.FrameSync?.Offset ?? 0);

        // Where the first block left the light and the wall clock: the steady-state real-time factor runs from there.
        (double WallSeconds, long Pulses)? firstBlockDone = null;
        bob.BlockCompleted += _ => firstBlockDone ??= (wall.Elapsed.TotalSeconds, PulsesSoFar(link, frontEnd, devices));

        try
        {
            while (bob.AbortReason is null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (supervisor?.Fault is string fault)
                {
                    bob.Abort(fault);
                    break;
                }
                int m;
                if (frontEnd is not null)
                    m = frontEnd.Read(detections, cancellationToken);
                else
                {
                    long emitStart = Stopwatch.GetTimestamp();
                    int n = link.Emit(clicks, endPulse);
                    stages.AddSince(PipelineStage.Acquisition, emitStart);
                    long decodeStart = Stopwatch.GetTimestamp();
                    m = n == 0 ? 0 : decoder.Decode(clicks.AsSpan(0, n), detections);
                    stages.AddSince(PipelineStage.ClockRecovery, decodeStart);
                    if (n > 0 && m == 0) continue;
                }
                if (m == 0) break;
                detectionCount += m;
                await bob.SiftAsync(detections.AsMemory(0, m), cancellationToken).ConfigureAwait(false);
                progress?.Report(Snapshot(PulsesSoFar(link, frontEnd, devices), detectionCount, bob, settings, options.DurationSeconds));
            }
            closing = await bob.FinishAsync(cancellationToken).ConfigureAwait(false);
            await aliceTask.ConfigureAwait(false);
            if (bob.FrameSync is { Offset: long offset } sync)
                _logger.LogInformation("Frame synchronised at offset {Offset} pulses, pilot error rate {Rate:P2} over {Sifted:N0} sifted pilot detections ({Pilot:N0} pilot pulses, not key)",
                    offset, sync.PilotErrorRate, sync.PilotSifted, emission.PilotPulses);
            else if (bob.FrameSync is { Failure: string failure })
                _logger.LogError("{Failure}", failure);
            finished = bob.AbortReason is null;
        }
        catch (Exception failure)
        {
            aliceCancel.Cancel();
            aliceChannel.Complete();
            bobChannel.Complete();
            try { await aliceTask.ConfigureAwait(false); } catch (Exception) { /* reported below when it is the cause */ }
            // Bob found the channel closed because Alice's end had stopped: her failure is the cause to report.
            if (failure is ClassicalChannelClosedException && aliceTask.Exception?.InnerException is { } aliceFailure)
                throw new InvalidOperationException($"Alice's end of the link failed: {aliceFailure.Message}", aliceFailure);
            if (failure is ClassicalChannelClosedException && aliceTask.IsCanceled && !cancellationToken.IsCancellationRequested)
                throw new InvalidOperationException("Alice's end of the link stopped (cancelled) while Bob was still distilling.", failure);
            throw;
        }
        finally
        {
            frontEnd?.Dispose();
            if (devices is not null && stopEmission is not null)
            {
                if (finished)
                {
                    try { await stopEmission.ConfigureAwait(false); }
                    catch (Exception e) when (e is Protocol.DeviceException or InvalidOperationException) { _logger.LogWarning("Stopping the emission failed: {Error}", e.Message); }
                }
                else
                {
                    // Ended early (an abort, a failure): nobody reads the tags any more, so stop the tagger first; the
                    // symbol stream then stalls and ends when the devices are closed.
                    try { devices.Tagger.StopStream(); }
                    catch (Exception e) when (e is Protocol.DeviceException or InvalidOperationException) { _logger.LogWarning("Stopping the tag stream failed: {Error}", e.Message); }
                    _ = stopEmission.ContinueWith(t => _logger.LogDebug("Emission ended: {Error}", t.Exception?.InnerException?.Message),
                        CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }
            }
            if (active && devices?.Detector is Hardware.Detector.IBasisModulator modulator)
            {
                try { modulator.StopBasisModulation(); }
                catch (Exception e) when (e is Protocol.DeviceException or InvalidOperationException or ObjectDisposedException) { _logger.LogWarning("Stopping the basis modulation failed: {Error}", e.Message); }
            }
            supervisor?.Dispose();
            deviceReports = devices?.Report();
            deviceLog = supervisor?.Log;
            physicalLink = devices?.Emulated?.CurrentSession?.Tagger?.Link ?? physicalLink;
            ownRig?.Dispose();
        }
        progress?.Report(Snapshot(PulsesSoFar(link, frontEnd, devices), detectionCount, bob, settings, options.DurationSeconds));

        // Through the devices (or a replay) the run covers exactly the pulses streamed; directly, the emulator may overshoot.
        if (!viaTimeTags) physicalLink = link;
        long pulsesSent = viaTimeTags ? endPulse : Math.Max(link.PulsesEmitted, endPulse);
        // A damaged recording the user accepted covers fewer pulses than it claims: rates and gains are over those.
        if (options.ReplayIntegrity is { Intact: false } damaged)
            pulsesSent = Math.Min(endPulse, (long)Math.Round(damaged.CoveredSeconds * settings.PulseRateHz));
        bool identical = FileKeySink.HoldIdenticalKeys(aliceStore, bobStore);
        double wallSeconds = wall.Elapsed.TotalSeconds;
        var performance = Performance(wallSeconds, pulsesSent, settings, bob, firstBlockDone, stages, frontEnd);
        return BuildReport(started, wallSeconds, performance, pulsesSent, detectionCount, physicalLink, decoder, bob, alice,
            aliceChannel, bobChannel, aliceStore, bobStore, identical, closing, frontEnd, deviceReports, devices?.Description, deviceLog)
            with { Monitor = monitor.Report() };
    }

    /// <summary>Pulses covered so far: the emulator's position, or on replay the pulse of the last recovered sync.</summary>
    private static long PulsesSoFar(EmulatedLink link, TimeTagFrontEnd? frontEnd, LinkRig? devices) =>
        frontEnd is null ? link.PulsesEmitted : Math.Max(0, frontEnd.Clock.LastSyncPulse);

    /// <summary>
    /// Connects and configures the devices for the profile, starts the tag stream and the emission, and returns the
    /// emission's tag stream (the acquisition's source; it ends where the emission's light ends, on hardware too) and the
    /// task that stops the emission once every symbol is streamed.
    /// </summary>
    private (ITimeTagSource Source, Task StopEmission) StartDevices(LinkRig devices, LinkProfile profile, LinkSettings settings,
        EmulatedTimeTaggerOptions taggerOptions, Core.Symbols.ISymbolSource symbols, long endPulse, Core.Symbols.IBasisChoices? bases)
    {
        devices.Connect();
        devices.Configure(profile, settings, taggerOptions.SyncChannel);
        _logger.LogInformation("Devices: {Modulator}; {Detector}; {Tagger}", devices.Modulator.Name, devices.Detector.Name, devices.Tagger.Name);
        if (bases is not null)
        {
            // Bob's bases go to his detector before the light comes: the pattern starts at the emission's first slot.
            var modulator = devices.Detector as Hardware.Detector.IBasisModulator
                            ?? throw new InvalidOperationException($"{devices.Detector.Name} has no basis modulator driver; an active receiver needs one.");
            modulator.StartBasisModulation(bases, endPulse + settings.PulsesPerSync);
        }
        var emission = devices.StartEmission(symbols, endPulse);
        return (emission, emission.EmissionStopped);
    }


    private static LinkProgress Snapshot(long pulses, long detections, BobDistiller bob, LinkSettings settings, double duration)
    {
        double linkSeconds = pulses / settings.PulseRateHz;
        var last = bob.Blocks.Count > 0 ? bob.Blocks[^1] : null;
        double qber = last is null ? double.NaN : double.IsNaN(last.QberZ) ? last.QberX : last.QberZ;
        return new LinkProgress(linkSeconds, duration, pulses, detections, bob.Sifting.SiftedZ + bob.Sifting.SiftedX, qber,
            bob.SecretBits, linkSeconds > 0 ? bob.SecretBits / linkSeconds : 0, bob.Blocks.Count);
    }

    private static PerformanceReport Performance(double wallSeconds, long pulsesSent, LinkSettings settings, BobDistiller bob,
        (double WallSeconds, long Pulses)? firstBlockDone, StageTimes stages, TimeTagFrontEnd? frontEnd)
    {
        double linkSeconds = pulsesSent / settings.PulseRateHz;
        double? steady = null;
        if (bob.Blocks.Count >= 2 && firstBlockDone is { } first && wallSeconds > first.WallSeconds)
            steady = Math.Max(0, pulsesSent - first.Pulses) / settings.PulseRateHz / (wallSeconds - first.WallSeconds);
        var acquisition = frontEnd is null ? null : AcquisitionReport.From(frontEnd);
        return new PerformanceReport(wallSeconds > 0 ? linkSeconds / wallSeconds : 0, steady, firstBlockDone?.WallSeconds,
            StageTimeReport.From(stages, frontEnd is not null), frontEnd?.Loop.RingFillHighWater, frontEnd?.RingCapacity, acquisition?.DroppedByRing);
    }

    private LinkReport BuildReport(DateTimeOffset started, double wallSeconds, PerformanceReport performance, long pulsesSent, long detections,
        EmulatedLink? link, DetectionDecoder decoder, BobDistiller bob, AliceDistiller alice,
        IClassicalChannel aliceChannel, IClassicalChannel bobChannel, FileKeySink aliceStore, FileKeySink bobStore,
        bool identical, string closing, TimeTagFrontEnd? frontEnd, IReadOnlyList<DeviceReport>? deviceReports, string? devicesDescription,
        IReadOnlyList<string>? deviceLog)
    {
        var profile = options.Profile;
        var settings = options.Settings;
        var blocks = bob.Blocks;
        var corrected = blocks.Where(b => b.ErrorsZPerIntensity is not null).ToList();
        var sifting = bob.Sifting;
        var analysisKind = settings.Distillation().FiniteKeyAnalysis;

        var perIntensity = new List<IntensityReport>();
        foreach (var k in Intensities.All)
        {
            int i = (int)k;
            double probability = settings.IntensityProbability(k);
            double expectedPulses = pulsesSent * probability;
            long sz = blocks.Sum(b => b.SiftedZPerIntensity[i]);
            long sx = blocks.Sum(b => b.SiftedXPerIntensity[i]);
            long ex = blocks.Sum(b => b.ErrorsXPerIntensity[i]);
            long czCount = corrected.Sum(b => b.SiftedZPerIntensity[i]);
            long? ez = corrected.Count == 0 ? null : corrected.Sum(b => b.ErrorsZPerIntensity![i]);
            perIntensity.Add(new IntensityReport(
                k.ToString().ToLowerInvariant(), settings.MeanPhotonNumber(k), probability, expectedPulses,
                sifting.DetectionsPerIntensity[i], expectedPulses > 0 ? sifting.DetectionsPerIntensity[i] / expectedPulses : 0,
                sz, sx, ex, Ratio(ex, sx), ez, ez is null ? null : Ratio(ez.Value, czCount)));
        }

        long siftedXInBlocks = blocks.Sum(b => b.SiftedX);
        long errorsX = blocks.Sum(b => b.ErrorsXPerIntensity.Sum());
        long correctedBits = corrected.Sum(b => b.SiftedZ);
        long errorsZ = corrected.Sum(b => b.ErrorsZPerIntensity!.Sum());
        long leaked = corrected.Sum(b => b.LeakedErrorCorrectionBits);
        double shannon = corrected.Sum(b => b.SiftedZ * Distillation.ErrorCorrection.BinaryEntropy.H2(b.QberZ));

        var estimated = blocks.LastOrDefault(b => b.Bounds is not null);
        DecoyStateReport? decoy = null;
        if (estimated?.Bounds is { } bounds)
        {
            // Single-photon pulses that Alice sent in Z and Bob measured in Z during the block's share of the run.
            double tau1 = Intensities.All.Sum(k => settings.IntensityProbability(k) * settings.MeanPhotonNumber(k) * Math.Exp(-settings.MeanPhotonNumber(k)));
            double blockShare = sifting.SiftedZ > 0 ? (double)estimated.SiftedZ / sifting.SiftedZ : 0;
            double singlePhotonZPulses = pulsesSent * blockShare * settings.AliceProbabilityZ * profile.BobProbabilityZ * tau1;
            decoy = new DecoyStateReport(estimated.BlockId, bounds.VacuumEventsZLower, bounds.SinglePhotonEventsZLower,
                bounds.SinglePhotonEventsXLower, bounds.SinglePhotonErrorsXUpper,
                singlePhotonZPulses > 0 ? Finite(bounds.SinglePhotonEventsZLower / singlePhotonZPulses) : null,
                Finite(bounds.SinglePhotonErrorRateXUpper), Finite(bounds.PhaseErrorRateZUpper), bounds.Problem);
        }

        var aborted = blocks.FirstOrDefault(b => b.Outcome == BlockOutcome.Aborted);
        string? reason = aborted?.Reason ?? bob.AbortReason;
        if (reason is null && bob.SecretBits == 0)
            reason = blocks.LastOrDefault(b => b.Reason is not null)?.Reason ?? closing;
        double linkSeconds = pulsesSent / settings.PulseRateHz;

        var emulatorCounters = link is not null ? link.Counters.ToDictionary() : new Dictionary<string, long>();
        return new LinkReport
        {
            StartedAt = started,
            WallClockSeconds = wallSeconds,
            Seed = options.Seed,
            EmulatorSeed = options.EmulatorSeed,
            Seeded = options.Seed is not null,
            Warning = options.Seed is null ? null : ChoiceSources.SeededWarning,
            ProfileSource = options.ProfileSource,
            Profile = profile,
            Settings = settings,
            LinkSeconds = linkSeconds,
            PulsesSent = pulsesSent,
            Detections = detections,
            SiftedBitsZ = sifting.SiftedZ,
            SiftedBitsX = sifting.SiftedX,
            SiftedBitsZNotDistilled = sifting.SiftedZ - blocks.Sum(b => b.SiftedZ),
            PerIntensity = perIntensity,
            QberZ = correctedBits > 0 ? (double)errorsZ / correctedBits : null,
            QberX = Ratio(errorsX, siftedXInBlocks),
            DecoyState = decoy,
            ErrorCorrection = new ErrorCorrectionReport(MethodsOf(corrected), leaked, shannon > 0 ? leaked / shannon : null, correctedBits,
                corrected.Sum(b => b.ErrorCorrectionFrames), corrected.Sum(b => b.ErrorCorrectionRounds)),
            Verification = new VerificationReport("polynomial hash over GF(2^61-1)",
                blocks.Count(b => b.VerificationPassed is not null), blocks.Count(b => b.VerificationPassed == true),
                blocks.Count(b => b.VerificationPassed == false), blocks.Select(b => b.VerificationTagBits).DefaultIfEmpty(0).Max()),
            SecretBits = bob.SecretBits,
            SecretKeyRateBitsPerSecond = linkSeconds > 0 ? bob.SecretBits / linkSeconds : 0,
            SecretKeyRateBitsPerPulse = pulsesSent > 0 ? (double)bob.SecretBits / pulsesSent : 0,
            IdenticalKeys = identical && alice.SecretBits == bob.SecretBits,
            Aborted = aborted is not null || bob.AbortReason is not null,
            Reason = reason,
            Receiver = new ReceiverReport(profile.ReceiverLayout.ToString(),
                frontEnd is null ? "emulator clicks"
                    : options.ReplayFile is null ? $"device drivers over the wire protocol ({devicesDescription}): symbols to the modulator, " +
                        (profile.ReceiverLayout == ReceiverLayout.ActiveTwoDetector ? "Bob's bases to his detector's basis modulator, " : "") +
                        "tags from the tagger into its ring, acquisition loop, clock recovery"
                    : $"replayed time tags ({options.ReplayFile}): acquisition thread, ring, clock recovery",
                decoder.MultiClicks, decoder.CrossBasisMultiClicks, decoder.InvalidClicks, emulatorCounters,
                frontEnd?.Clock.Counters.ToDictionary(), frontEnd is null ? null : AcquisitionReport.From(frontEnd)),
            ClassicalChannel = new ClassicalChannelReport(bobChannel.Statistics.MessagesSent, bobChannel.Statistics.BytesSent,
                aliceChannel.Statistics.MessagesSent, aliceChannel.Statistics.BytesSent, options.ChannelRoundTrip.TotalSeconds),
            Devices = deviceReports,
            DeviceLog = deviceLog,
            Recording = options.ReplayIntegrity,
            KeyFiles = new KeyFilesReport(aliceStore.Directory, bobStore.Directory, bobStore.BlockIds.Count, aliceStore.StoredBits, bobStore.StoredBits),
            Blocks = blocks.Select(b => new BlockReport(b.BlockId, b.Outcome.ToString(), b.Reason, b.SiftedZ, b.SiftedX,
                Finite(b.QberZ), Finite(b.QberX), Finite(b.QberEstimateUsedForCorrection), b.LeakedErrorCorrectionBits,
                Finite(b.ErrorCorrectionEfficiency), b.ErrorCorrectionRounds, b.VerificationPassed,
                Finite(b.Bounds?.PhaseErrorRateZUpper ?? double.NaN), Finite(b.Bounds?.SinglePhotonEventsZLower ?? double.NaN),
                b.SecretBits)
            {
                FiniteKey = FiniteKeyBlockReport.From(b, analysisKind),
                ErrorCorrection = ErrorCorrectionOf(b),
                FirstPulse = b.FirstPulse >= 0 ? b.FirstPulse : null,
                LastPulse = b.LastPulse >= 0 ? b.LastPulse : null,
            }).ToList(),
            FiniteKeyAnalysis = FiniteKeyAnalysisReport.From(settings.Distillation()),
            Performance = performance,
        };
    }

    /// <summary>The methods that corrected the blocks, e.g. "cascade", "ldpc" or, when <c>auto</c> switched, "cascade+ldpc".</summary>
    private static string MethodsOf(IEnumerable<BlockResult> corrected)
    {
        var methods = corrected.Select(b => MethodName(b.Reconciliation)).Distinct().Order(StringComparer.Ordinal).ToList();
        return methods.Count == 0 ? "none" : string.Join('+', methods);
    }

    private static string MethodName(ReconciliationMethod method) => method.ToString().ToLowerInvariant();

    private static BlockErrorCorrectionReport? ErrorCorrectionOf(BlockResult b) =>
        b.ErrorCorrectionFrames == 0 ? null
        : new BlockErrorCorrectionReport(MethodName(b.Reconciliation), b.ErrorCorrectionFrames, b.ErrorCorrectionRounds, b.ErrorCorrectionFrameRounds,
            b.ErrorCorrectionWaitSeconds, b.RoundTripSeconds, Finite(b.LightSeconds), b.ErrorCorrectionDecodeFailures, b.ErrorCorrectionRevealedBits);

    private static double? Ratio(long numerator, long denominator) => denominator == 0 ? null : (double)numerator / denominator;

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>Both ends of an in-process channel behind the emulated network latency, disposed together.</summary>
internal sealed class DelayedChannelPair(IClassicalChannel alice, IClassicalChannel bob, TimeSpan roundTrip) : IDisposable
{
    public DelayedClassicalChannel Alice { get; } = new(alice, roundTrip / 2);
    public DelayedClassicalChannel Bob { get; } = new(bob, roundTrip / 2);

    public void Dispose()
    {
        Alice.Dispose();
        Bob.Dispose();
    }
}
