package dev.gatehouse.gateway.config;

import java.util.List;

/**
 * A model name clients ask for and the targets that may answer it, in order of preference.
 *
 * @param maxQueueWaitMillis spill past a local target when its estimated wait is above this
 */
public record ModelRoute(String name, List<Target> targets, long maxQueueWaitMillis) {

    public static final long DEFAULT_MAX_QUEUE_WAIT_MILLIS = 2_000;

    /** Either a local model-store folder ({@code local}) or a provider's model. */
    public record Target(String local, String provider, String model) {
        public static Target local(String folder) {
            return new Target(folder, null, null);
        }

        public static Target provider(String provider, String model) {
            return new Target(null, provider, model);
        }

        public boolean isLocal() {
            return local != null;
        }
    }
}
