package dev.gatehouse.gateway.config;

import java.util.List;

/**
 * A model name clients ask for and the targets that may answer it, in order of preference.
 *
 * @param maxQueueWaitMillis spill past a local target when its estimated wait is above this
 * @param midStreamFailover  continue a streamed answer that breaks after its first words on the next target
 */
public record ModelRoute(String name, List<Target> targets, long maxQueueWaitMillis, boolean midStreamFailover) {

    public ModelRoute(String name, List<Target> targets, long maxQueueWaitMillis) {
        this(name, targets, maxQueueWaitMillis, true);
    }

    public static final long DEFAULT_MAX_QUEUE_WAIT_MILLIS = 2_000;

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
    }
}
