package dev.readsplit.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.readsplit.config.ConfigChecks.positive;

/**
 * Replica lag ({@code docs/routing.md}): when a replica is too far behind to read from, when it is
 * readmitted, and the four alert thresholds. The keys {@code maxLagBytes, maxLag, lagReadmitRatio, lagAlertInfo,
 * lagAlertWarning, lagAlertError, lagAlertCritical}. Valid by construction.
 *
 * @param maxLagBytes   replicas further behind than this many bytes of WAL are excluded from new reads
 * @param maxLag        replicas further behind than this are excluded (a replica's own {@code maxLag} wins)
 * @param readmitRatio  an excluded replica is readmitted below {@code readmitRatio × limit}; in (0, 1)
 * @param alertInfo     lag from which an alert at level INFO is raised; the four thresholds increase
 * @param alertWarning  lag of a WARNING alert
 * @param alertError    lag of an ERROR alert
 * @param alertCritical lag of a CRITICAL alert
 */
public record LagSettings(long maxLagBytes, Duration maxLag, double readmitRatio, Duration alertInfo,
                          Duration alertWarning, Duration alertError, Duration alertCritical) {

    public LagSettings {
        maxLagBytes(maxLagBytes);
        positive("maxLag", maxLag);
        readmitRatio(readmitRatio);
        positive("lagAlertInfo", alertInfo);
        positive("lagAlertWarning", alertWarning);
        positive("lagAlertError", alertError);
        positive("lagAlertCritical", alertCritical);
        ConfigChecks.none(problems(alertInfo, alertWarning, alertError, alertCritical));
    }

    /** The lag limit of {@code replica}: its own {@code maxLag}, else the data source's {@link #maxLag()}. */
    public Duration maxLag(NodeConfig replica) {
        return replica.maxLag() != null ? replica.maxLag() : maxLag;
    }

    static long maxLagBytes(long bytes) {
        if (bytes <= 0) {
            throw new ConfigException("maxLagBytes", "maxLagBytes must be positive: " + bytes);
        }
        return bytes;
    }

    static double readmitRatio(double ratio) {
        if (!(ratio > 0 && ratio < 1)) {
            throw new ConfigException("lagReadmitRatio", "lagReadmitRatio must be strictly between 0 and 1: " + ratio);
        }
        return ratio;
    }

    static List<ConfigException.Problem> problems(Duration info, Duration warning, Duration error,
                                                  Duration critical) {
        List<ConfigException.Problem> p = new ArrayList<>();
        increasing(p, "lagAlertInfo", info, "lagAlertWarning", warning);
        increasing(p, "lagAlertWarning", warning, "lagAlertError", error);
        increasing(p, "lagAlertError", error, "lagAlertCritical", critical);
        return p;
    }

    private static void increasing(List<ConfigException.Problem> p, String lowKey, Duration low, String highKey,
                                   Duration high) {
        if (high.compareTo(low) <= 0) {
            p.add(new ConfigException.Problem(highKey,
                    highKey + " (" + high + ") must be greater than " + lowKey + " (" + low + ")"));
        }
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group. */
    static final class Builder {
        long maxLagBytes = 16L * 1024 * 1024;
        Duration maxLag = Duration.ofSeconds(10);
        double readmitRatio = 0.5;
        Duration alertInfo = Duration.ofSeconds(1);
        Duration alertWarning = Duration.ofSeconds(5);
        Duration alertError = Duration.ofSeconds(10);
        Duration alertCritical = Duration.ofSeconds(30);

        Builder() {
        }

        Builder(LagSettings s) {
            maxLagBytes = s.maxLagBytes;
            maxLag = s.maxLag;
            readmitRatio = s.readmitRatio;
            alertInfo = s.alertInfo;
            alertWarning = s.alertWarning;
            alertError = s.alertError;
            alertCritical = s.alertCritical;
        }

        List<ConfigException.Problem> problems() {
            return LagSettings.problems(alertInfo, alertWarning, alertError, alertCritical);
        }

        LagSettings build() {
            return new LagSettings(maxLagBytes, maxLag, readmitRatio, alertInfo, alertWarning, alertError,
                    alertCritical);
        }
    }
}
