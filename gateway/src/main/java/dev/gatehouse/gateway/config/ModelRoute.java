package dev.gatehouse.gateway.config;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A model name clients ask for and the targets that may answer it, in order of preference.
 *
 * @param targets  the default targets: for a request no rule matches
 * @param maxQueueWaitMillis spill past a local target when its estimated wait is above this
 * @param rules    tried in order before the default; the first that matches picks the targets
 * @param version  the version tag of the default targets ({@code name@version}), null when unnamed
 * @param sticky   whether a weighted split keeps each user (or key) on one target, rather than
 *                 shuffling per request
 * @param midStreamFailover  continue a streamed answer that breaks after its first words on the next target
 */
public record ModelRoute(String name, List<Target> targets, long maxQueueWaitMillis, List<Rule> rules, String version,
                         boolean sticky, boolean midStreamFailover) {

    public static final long DEFAULT_MAX_QUEUE_WAIT_MILLIS = 2_000;
    /** The rule name of a route's own targets, which answer when no rule matches. */
    public static final String DEFAULT_RULE = "default";

    public ModelRoute {
        targets = List.copyOf(targets);
        rules = List.copyOf(rules);
    }

    /** A route without rules, version or stickiness, with mid-stream failover. */
    public ModelRoute(String name, List<Target> targets, long maxQueueWaitMillis) {
        this(name, targets, maxQueueWaitMillis, List.of(), null, false, true);
    }

    /** The version tags clients may ask for as {@code name@version}: the route's own and its rules'. */
    public Set<String> versions() {
        Set<String> versions = new LinkedHashSet<>();
        if (version != null) {
            versions.add(version);
        }
        rules.forEach(r -> versions.addAll(r.when().versions()));
        return versions;
    }

    /**
     * One entry of {@code rules:}: when every condition of {@code when} holds, {@code targets} answer
     * (tried by priority and weight like a route's own). {@code targets} is empty when every one was
     * dropped with its provider: such a request is refused rather than sent where the rule says not to.
     */
    public record Rule(String name, RuleMatch when, List<Target> targets) {
        public Rule {
            targets = List.copyOf(targets);
        }
    }

    /**
     * Either a local model-store folder ({@code local}) or a provider's model.
     *
     * @param priority lower is tried first; null means its position in the list, so a config
     *                 without priorities keeps its order
     * @param weight   its share of first tries among the targets of its priority
     * @param contextLength a provider target's declared context in tokens ({@code context-length}), null when
     *                 unknown; a local target's is its engine's max model length, which the router asks
     *                 the engine for, so it is always null here
     */
    public record Target(String local, String provider, String model, Integer priority, double weight,
                         Integer contextLength) {
        public static final double DEFAULT_WEIGHT = 1;

        public static Target local(String folder) {
            return new Target(folder, null, null, null, DEFAULT_WEIGHT, null);
        }

        public static Target provider(String provider, String model) {
            return new Target(null, provider, model, null, DEFAULT_WEIGHT, null);
        }

        public Target withPriority(Integer priority, double weight) {
            return new Target(local, provider, model, priority, weight, contextLength);
        }

        public Target withContextLength(Integer contextLength) {
            return new Target(local, provider, model, priority, weight, contextLength);
        }

        public boolean isLocal() {
            return local != null;
        }

        /** How headers, the usage log and fallbacks name it: {@code local:NAME} or {@code PROVIDER:MODEL}. */
        public String label() {
            return isLocal() ? "local:" + local : provider + ":" + model;
        }
    }
}
