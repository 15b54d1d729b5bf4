namespace Mesh.MetricsSink.Tests;

/// <summary>
/// Drift as a user checks it: the producer's <c>Producer:Drift</c> moves one feature's mean halfway through, and the
/// sink flags that feature (and only it) in the first window after the shift: within <see cref="Window"/> records.
/// </summary>
public sealed class DriftMonitorTests
{
    private const int Window = 200;
    private const int Records = 4000;
    private const int ShiftAt = 2000;

    public static TheoryData<string> References => [ReferenceProfile.TrainingSource, ReferenceProfile.FirstRecordsSource];

    [Theory]
    [MemberData(nameof(References))]
    public void CloseWindow_OneFeatureShiftedHalfway_FlagsItWithinAWindowAndNothingElse(string reference)
    {
        var profile = reference == ReferenceProfile.TrainingSource ? DriftTraffic.TrainingProfile(1000, 1) : null;
        var monitor = DriftTraffic.Monitor(profile);
        var drift = new DriftInjectionOptions { Feature = "petal_length", AfterRecords = ShiftAt, Shift = 0.5 };

        var reports = new List<(int End, ArmDriftReport Report)>();
        var n = 0;
        foreach (var row in DriftTraffic.Records(Records, 42, drift))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n));
            if (++n % Window == 0)
            {
                reports.Add((n, Assert.Single(monitor.CloseWindow(0))));
            }
        }

        var measured = reports.Where(r => r.Report.Reference != ArmDriftReport.Collecting).ToList();
        Assert.All(measured, r => Assert.Equal(reference, r.Report.Reference));
        Assert.All(measured.Where(r => r.End <= ShiftAt), r => Assert.Empty(r.Report.Alerts));
        var after = measured.Where(r => r.End > ShiftAt).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, r => Assert.Equal(["petal_length"], r.Report.Alerts.Select(f => f.Feature)));
        var first = after[0].Report.Features.Single(f => f.Feature == "petal_length");
        Assert.Equal(ShiftAt + Window, after[0].End);
        Assert.True(first.Psi >= 0.2, $"PSI {first.Psi}");
        Assert.True(first.KsPValue < 0.01 / 4, $"p {first.KsPValue}");
    }

    [Fact]
    public void CloseWindow_FirstRecordsReference_CollectsThenSaysSo()
    {
        var monitor = DriftTraffic.Monitor(null, new DriftOptions { ReferenceRecords = 500 });
        var n = 0;
        foreach (var row in DriftTraffic.Records(300, 3))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n++));
        }

        var collecting = Assert.Single(monitor.CloseWindow(0));
        Assert.Equal((ArmDriftReport.Collecting, 300L), (collecting.Reference, collecting.ReferenceRows));
        Assert.Empty(collecting.Features);

        foreach (var row in DriftTraffic.Records(700, 3).Skip(300))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n++));
        }

        var measuring = Assert.Single(monitor.CloseWindow(0));
        Assert.Equal((ReferenceProfile.FirstRecordsSource, 500L, 200L), (measuring.Reference, measuring.ReferenceRows, measuring.Records));
        Assert.Equal(4, measuring.Features.Count);
    }

    [Theory]
    [MemberData(nameof(References))]
    public void CloseWindow_UnshiftedTrafficOverManyWindows_AlertRateAtMostAlpha(string reference)
    {
        const int Windows = 500;
        var options = new DriftOptions { Alpha = 0.01 };
        var profile = reference == ReferenceProfile.TrainingSource ? DriftTraffic.TrainingProfile(1000, 1) : null;
        var monitor = DriftTraffic.Monitor(profile, options);

        var alerted = 0;
        var measured = 0;
        var n = 0;
        foreach (var row in DriftTraffic.Fresh(options.ReferenceRecords + (Windows * Window), 11))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n));
            if (++n % Window == 0)
            {
                var report = Assert.Single(monitor.CloseWindow(0));
                if (report.Reference != ArmDriftReport.Collecting && report.Features.All(f => double.IsFinite(f.Psi)))
                {
                    measured++;
                    alerted += report.Alerts.Any() || report.PredictionAlert ? 1 : 0;
                }
            }
        }

        Assert.True(measured >= Windows - 3, $"{measured} windows measured");
        Assert.True((double)alerted / measured <= options.Alpha, $"{alerted} of {measured} windows alerted");
    }

    [Fact]
    public void CloseWindow_ModelPredictsOneClassForEverything_PredictionDriftAlertsAndFeaturesDoNot()
    {
        var monitor = DriftTraffic.Monitor(DriftTraffic.TrainingProfile(1000, 1));
        var n = 0;
        foreach (var row in DriftTraffic.Records(2 * Window, 42))
        {
            var prediction = DriftTraffic.Prediction(row, n);
            if (n++ >= Window)
            {
                // The inputs are as trained; the model has gone wrong.
                prediction.Output.Label = "virginica";
            }

            monitor.Observe(prediction);
            if (n % Window == 0 && n < 2 * Window)
            {
                var before = Assert.Single(monitor.CloseWindow(0));
                Assert.False(before.PredictionAlert, $"PSI {before.PredictionPsi}");
            }
        }

        var after = Assert.Single(monitor.CloseWindow(1));
        Assert.True(after.PredictionAlert, $"PSI {after.PredictionPsi}, p {after.PredictionKsPValue}");
        Assert.Empty(after.Alerts);
    }

    [Fact]
    public void Observe_Disabled_MeasuresNothing()
    {
        var monitor = DriftTraffic.Monitor(DriftTraffic.TrainingProfile(1000, 1), new DriftOptions { Enabled = false });
        var n = 0;
        foreach (var row in DriftTraffic.Records(300, 5))
        {
            monitor.Observe(DriftTraffic.Prediction(row, n++));
        }

        Assert.Empty(monitor.CloseWindow(0));
        Assert.Empty(monitor.Summaries());
    }

    [Fact]
    public void Observe_FeaturesNamedInAnotherOrder_MatchedByName()
    {
        var monitor = DriftTraffic.Monitor(DriftTraffic.TrainingProfile(1000, 1), new DriftOptions { MinRecords = 10 });
        var n = 0;
        foreach (var row in DriftTraffic.Records(200, 5))
        {
            var prediction = DriftTraffic.Prediction(row, n++);
            // The record lists petal_length first; its value must still count as petal_length.
            prediction.Features.Clear();
            prediction.Features.Add([row.Values[2], row.Values[0], row.Values[1]]);
            prediction.FeatureNames.Clear();
            prediction.FeatureNames.Add(["petal_length", "sepal_length", "sepal_width"]);
            monitor.Observe(prediction);
        }

        var report = Assert.Single(monitor.CloseWindow(0));
        Assert.Empty(report.Alerts);
        var widths = report.Features.Single(f => f.Feature == "petal_width");
        Assert.Equal((0L, 1.0), (widths.Values, widths.MissingShare));
        var lengths = report.Features.Single(f => f.Feature == "petal_length");
        Assert.Equal(200, lengths.Values);
        Assert.Equal(0, lengths.MissingShare);
    }
}
