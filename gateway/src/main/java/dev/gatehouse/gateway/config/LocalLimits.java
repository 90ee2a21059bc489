package dev.gatehouse.gateway.config;

import dev.gatehouse.serving.engine.EngineConfig;

/** Engine limits for one model-store folder; null fields keep the command line's value. */
public record LocalLimits(Integer maxRunning, Integer maxWaiting) {

    public EngineConfig applyTo(EngineConfig base) {
        EngineConfig c = base;
        if (maxRunning != null) {
            c = c.withMaxRunning(maxRunning);
        }
        if (maxWaiting != null) {
            c = c.withMaxWaiting(maxWaiting);
        }
        return c;
    }
}
