package dev.gatehouse.gateway.config;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.engine.EngineConfig;

import java.time.Duration;

/**
 * Engine limits for one model-store folder ({@code local.NAME} in gatehouse.yaml); null fields keep
 * the command line's value. The keys are named as the {@code serve} flags.
 *
 * @param maxModelLength  {@code max-model-length}: tokens per sequence, 0 = the model's, capped by the KV budget
 * @param kvCacheMb       {@code kv-cache-mb}: KV cache memory, allocated when the model loads
 * @param stepTokenBudget {@code step-token-budget}: tokens one engine step may process (decodes first, then prompt chunks)
 * @param device          {@code device}: where this model runs (auto, cpu, cuda, cuda:N)
 * @param dtype           {@code dtype}: the type it computes in (auto, float16, float32)
 * @param weightsDtype    {@code weights-dtype}: 16-bit weights kept as stored on the CPU (auto) or widened (f32)
 * @param idleUnloadAfter {@code idle-unload-after}: frees the model after this long without requests (Ollama's keep-alive)
 * @param prefixCache     {@code prefix-cache}: whether prompts reuse the KV of a prefix computed before (default true)
 */
public record LocalLimits(Integer maxRunning, Integer maxWaiting, Integer maxModelLength, Integer kvCacheMb,
                          Integer stepTokenBudget, DeviceChoice device, DtypeChoice dtype,
                          WeightsDtype weightsDtype, Duration idleUnloadAfter, Boolean prefixCache) {

    public static final LocalLimits NONE = new LocalLimits(null, null, null, null, null, null, null, null, null, null);

    /**
     * {@code base} with these limits over it. Throws IllegalArgumentException for a combination the
     * engine refuses, such as a step-token-budget below max-running.
     */
    public EngineConfig applyTo(EngineConfig base) {
        EngineConfig c = base;
        if (maxRunning != null) {
            c = c.withMaxRunning(maxRunning); // raises the step budget to max-running when below
        }
        if (maxWaiting != null) {
            c = c.withMaxWaiting(maxWaiting);
        }
        if (maxModelLength != null) {
            c = c.withMaxModelLength(maxModelLength);
        }
        if (kvCacheMb != null) {
            c = c.withKvCacheBytes((long) kvCacheMb << 20);
        }
        if (stepTokenBudget != null) {
            c = c.withStepTokenBudget(stepTokenBudget);
        }
        if (prefixCache != null) {
            c = c.withPrefixCache(prefixCache);
        }
        return c;
    }
}
