package dev.readsplit.failover;

import java.time.Instant;
import java.util.List;

/**
 * What the last supervised failover did ({@link FailoverManager#lastFailover()}).
 *
 * @param at                    when it finished
 * @param oldPrimary            the failed primary (fenced: it needs a rebuild before it can serve again)
 * @param newPrimary            where writes go now
 * @param promotedHere          whether this data source ran {@code pg_promote} (false: the node already reported
 *                              itself primary, promoted by another instance or an operator)
 * @param oldPrimaryLsn         the old primary's last WAL position seen by the health checks (-1 unknown)
 * @param promotedLsn           the WAL position the new primary was promoted at (-1 unknown)
 * @param walBytesPastPromotion WAL the old primary had written past {@code promotedLsn} (-1 unknown): with
 *                              asynchronous replication, commits in these bytes are lost
 * @param repointed             standbys verified streaming from the new primary
 * @param notRepointed          standbys that could not be repointed (each needs an operator; see the events)
 * @param steps                 each step and its duration
 * @param returnedWithLsn       the end of the old primary's WAL, measured when it answered again (-1 until then)
 * @param exactWalBytesPastPromotion WAL the old primary had past {@code promotedLsn}, measured on the old primary
 *                              itself when it returned (-1 until then): with asynchronous replication, the
 *                              transactions committed in these bytes were lost by the failover
 */
public record FailoverReport(Instant at, String oldPrimary, String newPrimary, boolean promotedHere,
                             long oldPrimaryLsn, long promotedLsn, long walBytesPastPromotion,
                             List<String> repointed, List<String> notRepointed, List<StepTiming> steps,
                             long returnedWithLsn, long exactWalBytesPastPromotion) {

    public FailoverReport {
        repointed = List.copyOf(repointed);
        notRepointed = List.copyOf(notRepointed);
        steps = List.copyOf(steps);
    }

    /** This report with the old primary's measured end of WAL. */
    public FailoverReport withReturnedLsn(long endOfWal) {
        long exact = endOfWal < 0 || promotedLsn < 0 ? -1 : Math.max(0, endOfWal - promotedLsn);
        return new FailoverReport(at, oldPrimary, newPrimary, promotedHere, oldPrimaryLsn, promotedLsn,
                walBytesPastPromotion, repointed, notRepointed, steps, endOfWal, exact);
    }
}
