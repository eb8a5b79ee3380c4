package dev.readsplit.embedded;

/**
 * One row of the primary's {@code pg_stat_replication}: a connected standby as the primary sees it.
 *
 * @param name           the standby's {@code application_name} (its node name)
 * @param state          {@code streaming}, {@code catchup}, {@code startup}, ...
 * @param syncState      {@code async}, {@code sync}, {@code potential}, {@code quorum}
 * @param replayLagBytes bytes of WAL the primary has written that the standby has not yet replayed
 */
public record StandbyStatus(String name, String state, String syncState, long replayLagBytes) {
}
