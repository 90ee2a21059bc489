package dev.gatehouse.serving.engine;

/**
 * Limits of one model's engine; every one has a default.
 *
 * @param maxRunning      sequences decoded together in one batched step
 * @param maxWaiting      requests queued for admission; beyond it {@code submit} refuses at once
 * @param maxModelLength  positions (prompt + generated) per sequence; 0 = the model's
 *                        max_position_embeddings, capped by what the whole KV budget holds
 * @param kvCacheBytes    memory for the KV cache, preallocated at start and handed to sequences in blocks as
 *                        they grow; 0 = {@link KvBudget}'s default (1 GiB on the CPU, a share of the free memory on a GPU)
 * @param stepTokenBudget tokens one step may process: the decode tokens first, then prompt chunks,
 *                        so a long prompt is prefilled across steps instead of stalling decodes
 * @param maxPendingEvents events a request may have unread before its sequence pauses (backpressure)
 * @param prefixCache     whether a prompt reuses the cached keys and values of a prefix an earlier request computed
 */
public record EngineConfig(int maxRunning, int maxWaiting, int maxModelLength, long kvCacheBytes,
                           int stepTokenBudget, int maxPendingEvents, boolean prefixCache) {

    public static EngineConfig defaults() {
        return new EngineConfig(8, 64, 0, 0, 256, 256, true);
    }

    public EngineConfig {
        positive(maxRunning, "max-running");
        positive(maxWaiting, "max-waiting");
        positive(stepTokenBudget, "step-token-budget");
        positive(maxPendingEvents, "max-pending-events");
        if (maxModelLength < 0) {
            throw new IllegalArgumentException("max-model-length must be >= 0 (0 = from the model), got " + maxModelLength);
        }
        if (kvCacheBytes < 0) {
            throw new IllegalArgumentException("kv-cache-bytes must be >= 0 (0 = automatic), got " + kvCacheBytes);
        }
        if (stepTokenBudget < maxRunning) {
            throw new IllegalArgumentException("step-token-budget (" + stepTokenBudget
                    + ") must be at least max-running (" + maxRunning + "): every running sequence decodes each step");
        }
    }

    private static void positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }

    public EngineConfig withMaxRunning(int v) {
        return new EngineConfig(v, maxWaiting, maxModelLength, kvCacheBytes, Math.max(v, stepTokenBudget), maxPendingEvents, prefixCache);
    }

    public EngineConfig withMaxWaiting(int v) {
        return new EngineConfig(maxRunning, v, maxModelLength, kvCacheBytes, stepTokenBudget, maxPendingEvents, prefixCache);
    }

    public EngineConfig withMaxModelLength(int v) {
        return new EngineConfig(maxRunning, maxWaiting, v, kvCacheBytes, stepTokenBudget, maxPendingEvents, prefixCache);
    }

    public EngineConfig withKvCacheBytes(long v) {
        return new EngineConfig(maxRunning, maxWaiting, maxModelLength, v, stepTokenBudget, maxPendingEvents, prefixCache);
    }

    public EngineConfig withStepTokenBudget(int v) {
        return new EngineConfig(maxRunning, maxWaiting, maxModelLength, kvCacheBytes, v, maxPendingEvents, prefixCache);
    }

    public EngineConfig withPrefixCache(boolean v) {
        return new EngineConfig(maxRunning, maxWaiting, maxModelLength, kvCacheBytes, stepTokenBudget, maxPendingEvents, v);
    }

    public EngineConfig withMaxPendingEvents(int v) {
        return new EngineConfig(maxRunning, maxWaiting, maxModelLength, kvCacheBytes, stepTokenBudget, v, prefixCache);
    }
}
