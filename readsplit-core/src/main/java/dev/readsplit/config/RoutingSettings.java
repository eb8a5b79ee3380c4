package dev.readsplit.config;

import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.consistency.CausalScope;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.readsplit.config.ConfigChecks.notBlank;
import static dev.readsplit.config.ConfigChecks.notNegative;
import static dev.readsplit.config.ConfigChecks.notNull;

/**
 * Where statements go and what they must see ({@code docs/routing.md},
 * {@code docs/consistency.md}): the keys {@code balancer, localZone, consistency, causalScope, readYourWritesWait,
 * fallbackToPrimary, shadowMode, writeFunctions, readFunctions}. Valid by construction.
 *
 * @param balancer           how a replica is picked among the eligible ones
 * @param localZone          the zone whose replicas are preferred, or null when zone preference is off
 * @param consistency        the default consistency of reads
 * @param causalScope        whose writes a read under read-your-writes must see (default {@code thread})
 * @param readYourWritesWait how long a read may wait for a replica to replay the session's token; zero = no wait
 * @param fallbackToPrimary  whether a read with no eligible replica goes to the primary
 * @param shadowMode         route everything to the primary while recording where it would have gone
 * @param writeFunctions     lower-cased function names the classifier must treat as writing
 * @param readFunctions      lower-cased function names the classifier may treat as read-only
 */
public record RoutingSettings(BalancerKind balancer, String localZone, Consistency consistency,
                              CausalScope causalScope, Duration readYourWritesWait, boolean fallbackToPrimary,
                              boolean shadowMode, Set<String> writeFunctions, Set<String> readFunctions) {

    public RoutingSettings {
        notNull("balancer", balancer);
        if (localZone != null) {
            localZone = notBlank("localZone", localZone);
        }
        notNull("consistency", consistency);
        notNull("causalScope", causalScope);
        notNegative("readYourWritesWait", readYourWritesWait);
        writeFunctions = functions("writeFunctions", writeFunctions);
        readFunctions = functions("readFunctions", readFunctions);
        ConfigChecks.none(problems(writeFunctions, readFunctions));
    }

    private static Set<String> functions(String key, Collection<String> names) {
        Set<String> out = new LinkedHashSet<>();
        addFunctions(key, names, out);
        return Collections.unmodifiableSet(out);
    }

    /** Checks {@code names} and adds them, trimmed and lower-cased, to {@code into}; nothing added on a problem. */
    static void addFunctions(String key, Collection<String> names, Set<String> into) {
        notNull(key, names);
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw new ConfigException(key, key + " must not contain a blank name: '"
                        + (n == null ? "" : n) + "'");
            }
            String f = n.trim().toLowerCase(Locale.ROOT);
            for (int i = 0; i < f.length(); i++) {
                char c = f.charAt(i);
                if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$' || c == '.')) {
                    throw new ConfigException(key, key + " must contain function names: '" + n.trim() + "'");
                }
            }
        }
        for (String n : names) {
            into.add(n.trim().toLowerCase(Locale.ROOT));
        }
    }

    static List<ConfigException.Problem> problems(Set<String> writeFunctions, Set<String> readFunctions) {
        List<ConfigException.Problem> p = new ArrayList<>();
        for (String f : writeFunctions) {
            if (readFunctions.contains(f)) {
                p.add(new ConfigException.Problem("readFunctions",
                        "function '" + f + "' is in both writeFunctions and readFunctions"));
            }
        }
        return p;
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group. */
    static final class Builder {
        BalancerKind balancer = BalancerKind.AFFINITY;
        String localZone;
        Consistency consistency = Consistency.readYourWrites();
        CausalScope causalScope = CausalScope.DEFAULT;
        Duration readYourWritesWait = Duration.ofMillis(100);
        boolean fallbackToPrimary = true;
        boolean shadowMode;
        final Set<String> writeFunctions = new LinkedHashSet<>();
        final Set<String> readFunctions = new LinkedHashSet<>();

        Builder() {
        }

        Builder(RoutingSettings s) {
            balancer = s.balancer;
            localZone = s.localZone;
            consistency = s.consistency;
            causalScope = s.causalScope;
            readYourWritesWait = s.readYourWritesWait;
            fallbackToPrimary = s.fallbackToPrimary;
            shadowMode = s.shadowMode;
            writeFunctions.addAll(s.writeFunctions);
            readFunctions.addAll(s.readFunctions);
        }

        List<ConfigException.Problem> problems() {
            return RoutingSettings.problems(writeFunctions, readFunctions);
        }

        RoutingSettings build() {
            return new RoutingSettings(balancer, localZone, consistency, causalScope, readYourWritesWait,
                    fallbackToPrimary, shadowMode, writeFunctions, readFunctions);
        }
    }
}
